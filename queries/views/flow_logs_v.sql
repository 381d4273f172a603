-- flow_logs_v: every column of flow_logs, plus readable derived columns. One text for Athena (Trino) and
-- for `flowlog-enrich query` (DuckDB, with the Athena functions defined as macros): keep it to the subset
-- both run.
--   start_time, end_time  the capture window's start and end (epoch seconds) as UTC timestamps
--   protocol_name         the keyword of IANA's Protocol Numbers registry (0-146), lower case, spaces as
--                         hyphens, "(deprecated)" dropped: tcp, udp, icmp, ipv6-icmp, gre, esp, ah, ...;
--                         the number as text where the registry has no keyword (61, 63, 68, 99, 114,
--                         147-255)
--   tcp_flag_names        the names of the set bits of tcp_flags, in bit order: fin, syn, rst, psh, ack, urg
--   ip_version            4 or 6, from srcaddr
SELECT
  f.*,
  from_unixtime(f.start) AS start_time,
  from_unixtime(f."end") AS end_time,
  CASE f.protocol
    WHEN 0 THEN 'hopopt' WHEN 1 THEN 'icmp' WHEN 2 THEN 'igmp' WHEN 3 THEN 'ggp' WHEN 4 THEN 'ipv4'
    WHEN 5 THEN 'st' WHEN 6 THEN 'tcp' WHEN 7 THEN 'cbt' WHEN 8 THEN 'egp' WHEN 9 THEN 'igp'
    WHEN 10 THEN 'bbn-rcc-mon' WHEN 11 THEN 'nvp-ii' WHEN 12 THEN 'pup' WHEN 13 THEN 'argus'
    WHEN 14 THEN 'emcon' WHEN 15 THEN 'xnet' WHEN 16 THEN 'chaos' WHEN 17 THEN 'udp' WHEN 18 THEN 'mux'
    WHEN 19 THEN 'dcn-meas' WHEN 20 THEN 'hmp' WHEN 21 THEN 'prm' WHEN 22 THEN 'xns-idp' WHEN 23 THEN 'trunk-1'
    WHEN 24 THEN 'trunk-2' WHEN 25 THEN 'leaf-1' WHEN 26 THEN 'leaf-2' WHEN 27 THEN 'rdp' WHEN 28 THEN 'irtp'
    WHEN 29 THEN 'iso-tp4' WHEN 30 THEN 'netblt' WHEN 31 THEN 'mfe-nsp' WHEN 32 THEN 'merit-inp'
    WHEN 33 THEN 'dccp' WHEN 34 THEN '3pc' WHEN 35 THEN 'idpr' WHEN 36 THEN 'xtp' WHEN 37 THEN 'ddp'
    WHEN 38 THEN 'idpr-cmtp' WHEN 39 THEN 'tp++' WHEN 40 THEN 'il' WHEN 41 THEN 'ipv6' WHEN 42 THEN 'sdrp'
    WHEN 43 THEN 'ipv6-route' WHEN 44 THEN 'ipv6-frag' WHEN 45 THEN 'idrp' WHEN 46 THEN 'rsvp'
    WHEN 47 THEN 'gre' WHEN 48 THEN 'dsr' WHEN 49 THEN 'bna' WHEN 50 THEN 'esp' WHEN 51 THEN 'ah'
    WHEN 52 THEN 'i-nlsp' WHEN 53 THEN 'swipe' WHEN 54 THEN 'narp' WHEN 55 THEN 'min-ipv4' WHEN 56 THEN 'tlsp'
    WHEN 57 THEN 'skip' WHEN 58 THEN 'ipv6-icmp' WHEN 59 THEN 'ipv6-nonxt' WHEN 60 THEN 'ipv6-opts'
    WHEN 62 THEN 'cftp' WHEN 64 THEN 'sat-expak' WHEN 65 THEN 'kryptolan' WHEN 66 THEN 'rvd'
    WHEN 67 THEN 'ippc' WHEN 69 THEN 'sat-mon' WHEN 70 THEN 'visa' WHEN 71 THEN 'ipcv' WHEN 72 THEN 'cpnx'
    WHEN 73 THEN 'cphb' WHEN 74 THEN 'wsn' WHEN 75 THEN 'pvp' WHEN 76 THEN 'br-sat-mon' WHEN 77 THEN 'sun-nd'
    WHEN 78 THEN 'wb-mon' WHEN 79 THEN 'wb-expak' WHEN 80 THEN 'iso-ip' WHEN 81 THEN 'vmtp'
    WHEN 82 THEN 'secure-vmtp' WHEN 83 THEN 'vines' WHEN 84 THEN 'iptm' WHEN 85 THEN 'nsfnet-igp'
    WHEN 86 THEN 'dgp' WHEN 87 THEN 'tcf' WHEN 88 THEN 'eigrp' WHEN 89 THEN 'ospfigp' WHEN 90 THEN 'sprite-rpc'
    WHEN 91 THEN 'larp' WHEN 92 THEN 'mtp' WHEN 93 THEN 'ax.25' WHEN 94 THEN 'ipip' WHEN 95 THEN 'micp'
    WHEN 96 THEN 'scc-sp' WHEN 97 THEN 'etherip' WHEN 98 THEN 'encap' WHEN 100 THEN 'gmtp' WHEN 101 THEN 'ifmp'
    WHEN 102 THEN 'pnni' WHEN 103 THEN 'pim' WHEN 104 THEN 'aris' WHEN 105 THEN 'scps' WHEN 106 THEN 'qnx'
    WHEN 107 THEN 'a/n' WHEN 108 THEN 'ipcomp' WHEN 109 THEN 'snp' WHEN 110 THEN 'compaq-peer'
    WHEN 111 THEN 'ipx-in-ip' WHEN 112 THEN 'vrrp' WHEN 113 THEN 'pgm' WHEN 115 THEN 'l2tp' WHEN 116 THEN 'ddx'
    WHEN 117 THEN 'iatp' WHEN 118 THEN 'stp' WHEN 119 THEN 'srp' WHEN 120 THEN 'uti' WHEN 121 THEN 'smp'
    WHEN 122 THEN 'sm' WHEN 123 THEN 'ptp' WHEN 124 THEN 'isis-over-ipv4' WHEN 125 THEN 'fire'
    WHEN 126 THEN 'crtp' WHEN 127 THEN 'crudp' WHEN 128 THEN 'sscopmce' WHEN 129 THEN 'iplt'
    WHEN 130 THEN 'sps' WHEN 131 THEN 'pipe' WHEN 132 THEN 'sctp' WHEN 133 THEN 'fc'
    WHEN 134 THEN 'rsvp-e2e-ignore' WHEN 135 THEN 'mobility-header' WHEN 136 THEN 'udplite'
    WHEN 137 THEN 'mpls-in-ip' WHEN 138 THEN 'manet' WHEN 139 THEN 'hip' WHEN 140 THEN 'shim6'
    WHEN 141 THEN 'wesp' WHEN 142 THEN 'rohc' WHEN 143 THEN 'ethernet' WHEN 144 THEN 'aggfrag'
    WHEN 145 THEN 'nsh' WHEN 146 THEN 'homa'
    ELSE CAST(f.protocol AS varchar)
  END AS protocol_name,
  CASE WHEN f.tcp_flags IS NOT NULL THEN filter(ARRAY[
    CASE WHEN bitwise_and(f.tcp_flags, 1) <> 0 THEN 'fin' END,
    CASE WHEN bitwise_and(f.tcp_flags, 2) <> 0 THEN 'syn' END,
    CASE WHEN bitwise_and(f.tcp_flags, 4) <> 0 THEN 'rst' END,
    CASE WHEN bitwise_and(f.tcp_flags, 8) <> 0 THEN 'psh' END,
    CASE WHEN bitwise_and(f.tcp_flags, 16) <> 0 THEN 'ack' END,
    CASE WHEN bitwise_and(f.tcp_flags, 32) <> 0 THEN 'urg' END
  ], x -> x IS NOT NULL) END AS tcp_flag_names,
  CASE WHEN strpos(f.srcaddr, ':') > 0 THEN 6 WHEN f.srcaddr IS NOT NULL THEN 4 END AS ip_version
FROM flow_logs f
