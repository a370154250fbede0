-- Slow-request share per service: the share of requests that took over 2 seconds, weighted.
SELECT
    service,
    round(sum(weight)) AS requests,
    coalesce(sum(weight) FILTER (WHERE duration_ms > 2000), 0) / sum(weight) AS slow_share
FROM requests
GROUP BY service
ORDER BY service;
