-- p95 and p99 latency per route: the smallest duration that at least 95% (99%) of the route's
-- requests did not exceed, counting each request by its weight, so that the slow and failing
-- requests the environment keeps more of do not pull the percentiles up.
WITH ranked AS (
    SELECT
        service, route, duration_ms, weight,
        sum(weight) OVER (PARTITION BY service, route ORDER BY duration_ms
                          ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS at_most,
        sum(weight) OVER (PARTITION BY service, route) AS total
    FROM requests
)
SELECT
    service,
    route,
    round(any_value(total)) AS requests,
    min(duration_ms) FILTER (WHERE at_most >= 0.95 * total - 1e-9) AS p95_ms,
    min(duration_ms) FILTER (WHERE at_most >= 0.99 * total - 1e-9) AS p99_ms
FROM ranked
GROUP BY service, route
ORDER BY service, route;
