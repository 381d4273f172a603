-- External egress volume per destination (exfiltration): bytes sent to addresses outside the internal ranges.
SELECT dstaddr, dst_aws_service, sum(bytes) AS total_bytes, count(*) AS flows, count(DISTINCT srcaddr) AS sources
FROM flow_logs
WHERE dt >= CAST(CAST(current_date - INTERVAL '1' DAY AS date) AS varchar)
  AND peer_scope = 'external'
  AND flow_direction = 'egress'
GROUP BY dstaddr, dst_aws_service
ORDER BY total_bytes DESC, dstaddr, dst_aws_service
LIMIT 25
