-- Transit Gateway: bytes between VPC pairs and their attachments' tiers, each flow counted once, where it
-- entered the transit gateway; a VPN or Direct Connect side is named by its attachment.
SELECT coalesce(src_vpc_name, tgw_src_vpc_id, tgw_attachment_id) AS src_vpc,
       coalesce(dst_vpc_name, tgw_dst_vpc_id, tgw_pair_attachment_id) AS dst_vpc,
       src_subnet_tier, dst_subnet_tier,
       sum(bytes) AS total_bytes, sum(packets) AS total_packets, count(*) AS flows
FROM flow_logs
WHERE dt >= CAST(CAST(current_date - INTERVAL '1' DAY AS date) AS varchar)
  AND tgw_id IS NOT NULL
  AND flow_direction = 'ingress'
  -- Delivered: a flow dropped at its source attachment (blackhole, no route) has no pair attachment.
  AND tgw_pair_attachment_id IS NOT NULL
GROUP BY coalesce(src_vpc_name, tgw_src_vpc_id, tgw_attachment_id),
         coalesce(dst_vpc_name, tgw_dst_vpc_id, tgw_pair_attachment_id), src_subnet_tier, dst_subnet_tier
ORDER BY total_bytes DESC, src_vpc, dst_vpc, src_subnet_tier, dst_subnet_tier
LIMIT 50
