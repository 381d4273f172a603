-- Internal vs external traffic, by direction.
SELECT peer_scope, flow_direction, count(*) AS flows, sum(bytes) AS total_bytes
FROM flow_logs
WHERE dt >= CAST(CAST(current_date - INTERVAL '1' DAY AS date) AS varchar)
  AND peer_scope IS NOT NULL
GROUP BY peer_scope, flow_direction
ORDER BY total_bytes DESC, peer_scope, flow_direction
