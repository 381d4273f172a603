-- Transit Gateway: top talkers across accounts: address pairs whose traffic crossed from one account (or on
-- premises) to another through the transit gateway, by bytes, each flow counted once where it entered.
SELECT coalesce(tgw_src_vpc_account_id, 'on-premises') AS src_account, srcaddr,
       coalesce(tgw_dst_vpc_account_id, 'on-premises') AS dst_account, dstaddr,
       sum(bytes) AS total_bytes, sum(packets) AS total_packets, count(*) AS flows
FROM flow_logs
WHERE dt >= CAST(CAST(current_date - INTERVAL '1' DAY AS date) AS varchar)
  AND tgw_id IS NOT NULL
  AND flow_direction = 'ingress'
  -- Delivered: a flow dropped at its source attachment (blackhole, no route) has no pair attachment.
  AND tgw_pair_attachment_id IS NOT NULL
  AND coalesce(tgw_src_vpc_account_id, 'on-premises') <> coalesce(tgw_dst_vpc_account_id, 'on-premises')
GROUP BY coalesce(tgw_src_vpc_account_id, 'on-premises'), srcaddr,
         coalesce(tgw_dst_vpc_account_id, 'on-premises'), dstaddr
ORDER BY total_bytes DESC, src_account, srcaddr, dst_account, dstaddr
LIMIT 25
