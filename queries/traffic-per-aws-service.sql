-- Traffic per AWS service behind the remote address (ip-ranges, or the log's pkt-*-aws-service fields).
SELECT coalesce(dst_aws_service, src_aws_service) AS aws_service, count(*) AS flows, sum(bytes) AS total_bytes
FROM flow_logs
WHERE dt >= CAST(CAST(current_date - INTERVAL '1' DAY AS date) AS varchar)
  AND coalesce(dst_aws_service, src_aws_service) IS NOT NULL
GROUP BY coalesce(dst_aws_service, src_aws_service)
ORDER BY total_bytes DESC, aws_service
