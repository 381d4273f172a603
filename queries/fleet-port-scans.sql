-- Fleet-wide port scans in the last window: sources reaching 20 or more distinct destination ports, all accounts and containers together.
-- Parameters, in this order and repeated for each window bound below: the window's end (ISO 8601 text) and its
-- length in minutes. The scheduled state machine passes them to Athena (ExecutionParameters); locally
-- `flowlog-enrich query fleet-port-scans --since 15m` binds them in DuckDB. The dt and hour bounds keep the scan to
-- the window's partitions; start keeps the window exact. Opening side only, as in port-scans.
SELECT srcaddr AS source, count(DISTINCT dstaddr) AS targets, count(DISTINCT dstport) AS distinct_ports,
       count(*) AS flows, min(start) AS first_seen, max("end") AS last_seen
FROM flow_logs
WHERE dt >= date_format(from_unixtime(to_unixtime(from_iso8601_timestamp(?)) - ? * 60), '%Y-%m-%d')
  AND (dt || hour) >= date_format(from_unixtime(to_unixtime(from_iso8601_timestamp(?)) - ? * 60), '%Y-%m-%d%H')
  AND start >= to_unixtime(from_iso8601_timestamp(?)) - ? * 60
  AND dstport IS NOT NULL
  AND (action = 'REJECT' OR dstport < srcport)
GROUP BY srcaddr
HAVING count(DISTINCT dstport) >= 20
ORDER BY distinct_ports DESC, source
LIMIT 50
