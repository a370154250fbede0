-- One row per span of spanwise's analysis file (the file exporter's OTLP-JSON lines), for the
-- SLI queries beside this file and for loading into a warehouse. DuckDB; the file's path is
-- the variable `traces_file`:
--
--   SET VARIABLE traces_file = 'spanwise-traces.jsonl';
--
-- `weight` is how many spans each exported span stands for: 1 / the probability it was kept
-- with, read from the consistent-sampling threshold in its tracestate (`ot=th:...`; none
-- means 1). Sums of `weight` are unbiased counts of what the services did, whatever the
-- environment sampled.

CREATE OR REPLACE MACRO attribute_text(attributes, wanted) AS
    list_filter(attributes, lambda a: a.key = wanted)[1].value.stringValue;

CREATE OR REPLACE MACRO attribute_int(attributes, wanted) AS
    TRY_CAST(list_filter(attributes, lambda a: a.key = wanted)[1].value.intValue AS BIGINT);

CREATE OR REPLACE VIEW spans AS
WITH requests AS (
    SELECT unnest(resourceSpans) AS resource_spans
    FROM read_json(
        getvariable('traces_file'),
        format = 'newline_delimited',
        maximum_object_size = 1073741824,
        columns = {
            resourceSpans: 'STRUCT(
                resource STRUCT(attributes STRUCT(key VARCHAR, value STRUCT(stringValue VARCHAR, intValue VARCHAR))[]),
                scopeSpans STRUCT(
                    scope STRUCT(name VARCHAR, version VARCHAR),
                    spans STRUCT(
                        traceId VARCHAR, spanId VARCHAR, parentSpanId VARCHAR, traceState VARCHAR,
                        name VARCHAR, kind INTEGER,
                        startTimeUnixNano VARCHAR, endTimeUnixNano VARCHAR,
                        attributes STRUCT(key VARCHAR, value STRUCT(stringValue VARCHAR, intValue VARCHAR))[],
                        status STRUCT(code INTEGER, message VARCHAR)
                    )[]
                )[]
            )[]'
        }
    )
),
scopes AS (
    SELECT resource_spans.resource.attributes AS resource, unnest(resource_spans.scopeSpans) AS scope_spans
    FROM requests
),
flat AS (
    SELECT resource, scope_spans.scope.name AS scope, unnest(scope_spans.spans) AS span
    FROM scopes
),
typed AS (
    SELECT
        attribute_text(resource, 'service.name') AS service,
        scope,
        span.traceId AS trace_id,
        span.spanId AS span_id,
        span.parentSpanId AS parent_span_id,
        span.name AS name,
        -- 1 internal, 2 server, 3 client, 4 producer, 5 consumer
        coalesce(span.kind, 0) AS kind,
        coalesce(attribute_text(span.attributes, 'http.route'),
                 attribute_text(span.attributes, 'rpc.service') || '/' || attribute_text(span.attributes, 'rpc.method'))
            AS route,
        coalesce(attribute_int(span.attributes, 'http.response.status_code'),
                 attribute_int(span.attributes, 'http.status_code'))
            AS http_status,
        coalesce(span.status.code, 0) = 2 AS is_error,
        make_timestamp((span.startTimeUnixNano::UBIGINT // 1000)::BIGINT) AS start_time,
        (span.endTimeUnixNano::UBIGINT - span.startTimeUnixNano::UBIGINT) / 1e6 AS duration_ms,
        regexp_extract(coalesce(span.traceState, ''), '(?:^|,)\s*ot=[^,]*th:([0-9a-f]{1,14})', 1) AS th,
        attribute_text(span.attributes, 'sampling.policy') AS sampling_policy
    FROM flat
)
SELECT
    *,
    CASE WHEN th = '' THEN 1.0
         ELSE 1.0 - (('0x' || rpad(th, 14, '0'))::UBIGINT / 72057594037927936.0)
    END AS probability,
    1.0 / probability AS weight
FROM typed;

-- The requests: server spans (what the services answered).
CREATE OR REPLACE VIEW requests AS
SELECT * FROM spans WHERE kind = 2;
