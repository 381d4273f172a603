-- Transit Gateway: packets lost by reason (no route, blackhole route, MTU exceeded, TTL expired) and by the
-- attachment that recorded them.
WITH lost AS (
  SELECT tgw_attachment_id, src_vpc_name, 'no_route' AS reason, packets_lost_no_route AS packets
  FROM flow_logs
  WHERE dt >= CAST(CAST(current_date - INTERVAL '1' DAY AS date) AS varchar) AND packets_lost_no_route > 0
  UNION ALL
  SELECT tgw_attachment_id, src_vpc_name, 'blackhole', packets_lost_blackhole
  FROM flow_logs
  WHERE dt >= CAST(CAST(current_date - INTERVAL '1' DAY AS date) AS varchar) AND packets_lost_blackhole > 0
  UNION ALL
  SELECT tgw_attachment_id, src_vpc_name, 'mtu_exceeded', packets_lost_mtu_exceeded
  FROM flow_logs
  WHERE dt >= CAST(CAST(current_date - INTERVAL '1' DAY AS date) AS varchar) AND packets_lost_mtu_exceeded > 0
  UNION ALL
  SELECT tgw_attachment_id, src_vpc_name, 'ttl_expired', packets_lost_ttl_expired
  FROM flow_logs
  WHERE dt >= CAST(CAST(current_date - INTERVAL '1' DAY AS date) AS varchar) AND packets_lost_ttl_expired > 0
)
SELECT reason, tgw_attachment_id, max(src_vpc_name) AS src_vpc_name, sum(packets) AS packets_lost, count(*) AS flows
FROM lost
GROUP BY reason, tgw_attachment_id
ORDER BY packets_lost DESC, reason, tgw_attachment_id
