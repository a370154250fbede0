-- Error rate per service: the share of requests whose server span has status ERROR, weighted.
SELECT
    service,
    round(sum(weight)) AS requests,
    coalesce(sum(weight) FILTER (WHERE is_error), 0) / sum(weight) AS error_rate
FROM requests
GROUP BY service
ORDER BY service;
