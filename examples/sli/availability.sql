-- Availability per service: the share of requests answered without an error (a server span
-- with status ERROR or an HTTP status of 500 or more), weighted by what sampling kept.
SELECT
    service,
    round(sum(weight)) AS requests,
    round(sum(weight) FILTER (WHERE is_error OR http_status >= 500)) AS failed,
    1.0 - coalesce(sum(weight) FILTER (WHERE is_error OR http_status >= 500), 0) / sum(weight)
        AS availability
FROM requests
GROUP BY service
ORDER BY service;
