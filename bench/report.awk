# bench/report.awk: the summary of a bench/run.sh output directory, in
# Markdown: medians of the repeated runs, ratios to cxenstored, and the
# targets of issues 8 and 3 with met / NOT MET.
#
#   awk -F'\t' -f bench/report.awk machine.txt results.tsv rss.tsv \
#       durability.tsv
#   awk -F'\t' -f bench/report.awk DIR1/machine.txt DIR2/machine.txt \
#       DIR1/results.tsv DIR2/results.tsv ...     (several runs pooled)
#
# Plain POSIX awk (Debian's default is mawk: no asort, hence isort).
# Every figure is the median over the repetitions of one (daemon,
# workload, clients, depth, keys); "-" where a daemon did not run.

function isort(a, n,    i, j, t) {
	for (i = 2; i <= n; i++) {
		t = a[i]
		for (j = i - 1; j >= 1 && a[j] + 0 > t + 0; j--)
			a[j + 1] = a[j]
		a[j + 1] = t
	}
}

function median(list,    a, n) {
	n = split(list, a, " ")
	if (n == 0)
		return ""
	isort(a, n)
	return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}

function add(arr, k, v) {
	if (v == "-" || v == "")
		return
	arr[k] = (k in arr) ? arr[k] " " v : v
}

function med(arr, k) {
	return (k in arr) ? median(arr[k]) : ""
}

function num(v, fmt) {
	return v == "" ? "-" : sprintf(fmt, v)
}

function ratio(a, b) {
	return (a == "" || b == "" || b + 0 == 0) ? "" : a / b
}

# verdict(TEXT, VALUE, OP, LIMIT): one line of the targets table.
function verdict(text, v, op, lim,    ok) {
	if (v == "") {
		printf "| %s | not measured | - |\n", text
		return
	}
	ok = (op == "<=") ? v + 0 <= lim + 0 : v + 0 >= lim + 0
	printf "| %s | %.2f (needs %s %s) | %s |\n", text, v, op, lim, \
		ok ? "met" : "**NOT MET**"
}

# Several output directories may be given at once: their runs are pooled
# (medians over every repetition of every run); machine and durability
# lines that differ are shown side by side.
FILENAME ~ /machine\.txt$/ {
	if (!($1 in mvalue)) {
		machine[++nmachine] = $1
		mvalue[$1] = $2
	} else if (mvalue[$1] != $2) {
		mvalue[$1] = mvalue[$1] " / " $2
	}
	next
}

FILENAME ~ /results\.tsv$/ && $1 != "phase" {
	# phase label workload clients depth nodes secs ops ops_per_s p50 p99
	# max max_at cpu_us_op daemon_cpu_pct bench_cpu_us_op reqs errors retries
	lab = $2
	sub(/-size$/, "", lab)
	k = $1 SUBSEP lab SUBSEP $3 SUBSEP $4 SUBSEP $5 SUBSEP $6
	if (!(k in seen)) {
		seen[k] = 1
		order[++norder] = k
	}
	if (!(lab in daemon_seen)) {
		daemon_seen[lab] = 1
	}
	add(OPS, k, $9)
	add(P50, k, $10)
	add(P99, k, $11)
	add(MAX, k, $12)
	add(CPU, k, $14)
	add(PCT, k, $15)
	if ($8 > 0)
		add(RETRY, k, $19 / $8)
	errors += $18
	if ($18 > 0)
		bad[k] = 1
	spec = $3 SUBSEP $4 SUBSEP $5
	if ($1 == "main" && !(spec in spec_seen)) {
		spec_seen[spec] = 1
		specs[++nspecs] = spec
	}
	if ($1 == "size") {
		sk = lab SUBSEP $3 SUBSEP $4
		if (!(sk in size_seen)) {
			size_seen[sk] = 1
			size_specs[++nsize] = sk
		}
		if (!(($6 + 0) in size_keys)) {
			size_keys[$6 + 0] = 1
			sizes[++nsizes] = $6 + 0
		}
	}
	if ($1 == "main")
		main_keys = $6
	next
}

FILENAME ~ /rss\.tsv$/ && $1 != "label" {
	# label keys nodes rss_kb base_kb
	k = $1 SUBSEP $2
	if (!(k in rss_nodes)) {
		rss[++nrss] = k
		rss_nodes[k] = $3
	}
	add(RSSKB, k, $4)
	add(RSSBASE, k, $5)
	next
}

FILENAME ~ /durability\.tsv$/ && $1 != "key" {
	if (!($1 in dur)) {
		durk[++ndur] = $1
		dur[$1] = $2
		dfirst[$1] = $2
	} else {
		dur[$1] = dur[$1] " / " $2
	}
	if ($1 ~ /^restart_ms_/)
		restart_wall = restart_wall " " $2
	if ($1 ~ /^restart_cpu_ms_/)
		restart_cpu = restart_cpu " " $2
	next
}

# Median of a field for (phase, daemon, workload, clients, depth, keys).
function m(arr, phase, d, w, c, p, n) {
	return med(arr, phase SUBSEP d SUBSEP w SUBSEP c SUBSEP p SUBSEP n)
}

END {
	ndaemons = 0
	split("lx lx-always lx-none cx ox", all, " ")
	for (i = 1; i <= 5; i++)
		if (all[i] in daemon_seen)
			daemons[++ndaemons] = all[i]

	print "# xsbench summary"
	print ""
	print "| | |"
	print "| --- | --- |"
	for (i = 1; i <= nmachine; i++)
		printf "| %s | %s |\n", machine[i], mvalue[machine[i]]
	printf "| fdatasync (write 128 B + fdatasync) | p50 %s us, p99 %s us, %s/s |\n", \
		num(m(P50, "disk", "disk", "fsync", 1, 1, 0), "%.0f"), \
		num(m(P99, "disk", "disk", "fsync", 1, 1, 0), "%.0f"), \
		num(m(OPS, "disk", "disk", "fsync", 1, 1, 0), "%.0f")
	printf "| runs with errors | %d errors in all |\n", errors
	print ""
	print "Daemons: lx = lxenstored --sync=write (default), lx-always = --sync=always,"
	print "lx-none = --sync=none, cx = Xen 4.17 C xenstored, ox = Xen 4.17 oxenstored."
	print "Figures are medians over the repetitions."

	# --- main: throughput, CPU per op, latency ---
	if (nspecs > 0) {
		print ""
		printf "## Throughput, ops/s (%s keys prefilled)\n\n", main_keys
		printf "| workload | clients | depth |"
		for (j = 1; j <= ndaemons; j++)
			printf " %s |", daemons[j]
		print " lx/cx | lx-always/cx | ox/cx |"
		printf "| --- | --: | --: |"
		for (j = 1; j <= ndaemons + 3; j++)
			printf " --: |"
		print ""
		for (i = 1; i <= nspecs; i++) {
			split(specs[i], s, SUBSEP)
			printf "| %s | %s | %s |", s[1], s[2], s[3]
			for (j = 1; j <= ndaemons; j++)
				printf " %s |", num(m(OPS, "main", daemons[j], s[1], s[2], s[3], main_keys), "%.0f")
			lx = m(OPS, "main", "lx", s[1], s[2], s[3], main_keys)
			la = m(OPS, "main", "lx-always", s[1], s[2], s[3], main_keys)
			cx = m(OPS, "main", "cx", s[1], s[2], s[3], main_keys)
			ox = m(OPS, "main", "ox", s[1], s[2], s[3], main_keys)
			printf " %s | %s | %s |\n", num(ratio(lx, cx), "%.2f"), \
				num(ratio(la, cx), "%.2f"), num(ratio(ox, cx), "%.2f")
		}

		print ""
		print "## Daemon CPU time per operation, us"
		print ""
		print "On-CPU time of the daemon's threads (/proc/PID/task/*/schedstat, ns) and"
		print "of its reaped children, over the measured window, divided by operations."
		print ""
		printf "| workload | clients | depth |"
		for (j = 1; j <= ndaemons; j++)
			printf " %s |", daemons[j]
		print " lx/cx | lx/lx-none | ox/cx |"
		printf "| --- | --: | --: |"
		for (j = 1; j <= ndaemons + 3; j++)
			printf " --: |"
		print ""
		for (i = 1; i <= nspecs; i++) {
			split(specs[i], s, SUBSEP)
			printf "| %s | %s | %s |", s[1], s[2], s[3]
			for (j = 1; j <= ndaemons; j++)
				printf " %s |", num(m(CPU, "main", daemons[j], s[1], s[2], s[3], main_keys), "%.2f")
			lx = m(CPU, "main", "lx", s[1], s[2], s[3], main_keys)
			ln = m(CPU, "main", "lx-none", s[1], s[2], s[3], main_keys)
			cx = m(CPU, "main", "cx", s[1], s[2], s[3], main_keys)
			ox = m(CPU, "main", "ox", s[1], s[2], s[3], main_keys)
			printf " %s | %s | %s |\n", num(ratio(lx, cx), "%.2f"), \
				num(ratio(lx, ln), "%.2f"), num(ratio(ox, cx), "%.2f")
		}

		print ""
		print "## Latency p50 / p99, us (daemon CPU use in % of one core)"
		print ""
		printf "| workload | clients | depth |"
		for (j = 1; j <= ndaemons; j++)
			printf " %s |", daemons[j]
		print ""
		printf "| --- | --: | --: |"
		for (j = 1; j <= ndaemons; j++)
			printf " --: |"
		print ""
		for (i = 1; i <= nspecs; i++) {
			split(specs[i], s, SUBSEP)
			printf "| %s | %s | %s |", s[1], s[2], s[3]
			for (j = 1; j <= ndaemons; j++) {
				a = m(P50, "main", daemons[j], s[1], s[2], s[3], main_keys)
				if (a == "") {
					printf " - |"
					continue
				}
				printf " %.0f / %.0f (%.0f%%) |", a, \
					m(P99, "main", daemons[j], s[1], s[2], s[3], main_keys), \
					m(PCT, "main", daemons[j], s[1], s[2], s[3], main_keys)
			}
			print ""
		}

		printf "\nContended transactions, EAGAIN retries per commit:"
		for (i = 1; i <= nspecs; i++) {
			split(specs[i], s, SUBSEP)
			if (s[1] != "txn-contended")
				continue
			printf "\n- %s clients:", s[2]
			for (j = 1; j <= ndaemons; j++) {
				r = m(RETRY, "main", daemons[j], s[1], s[2], s[3], main_keys)
				if (r != "")
					printf " %s %.2f;", daemons[j], r
			}
		}
		print ""
	}

	# --- size ---
	if (nsize > 0) {
		print ""
		print "## Cost against tree size (ops/s, daemon us/op)"
		print ""
		printf "| daemon | workload | clients |"
		for (i = 1; i <= nsizes; i++)
			printf " %d keys |", sizes[i]
		print " us/op largest/smallest |"
		printf "| --- | --- | --: |"
		for (i = 1; i <= nsizes + 1; i++)
			printf " --: |"
		print ""
		# Rows by workload, clients, then daemon, whatever order ran.
		nrow = 0
		for (wi = 1; wi <= 2; wi++)
			for (c = 1; c <= 64; c = c == 1 ? 8 : 128)
				for (j = 1; j <= ndaemons; j++) {
					sk = daemons[j] SUBSEP (wi == 1 ? "read" : "write") SUBSEP c
					if (sk in size_seen)
						row[++nrow] = sk
				}
		for (i = 1; i <= nrow; i++) {
			split(row[i], s, SUBSEP)
			printf "| %s | %s | %s |", s[1], s[2], s[3]
			first = last = ""
			for (j = 1; j <= nsizes; j++) {
				o = m(OPS, "size", s[1], s[2], s[3], 1, sizes[j])
				c = m(CPU, "size", s[1], s[2], s[3], 1, sizes[j])
				if (o == "") {
					printf " - |"
					continue
				}
				printf " %.0f/s, %.2f |", o, c
				if (first == "")
					first = c
				last = c
			}
			printf " %s |\n", num(ratio(last, first), "%.2f")
			flat[s[1] SUBSEP s[2] SUBSEP s[3]] = ratio(last, first)
		}
	}

	# --- rss ---
	for (i = 1; i <= nrss; i++) {
		k = rss[i]
		rss_per_node[k] = (med(RSSKB, k) - med(RSSBASE, k)) * 1024 / rss_nodes[k]
	}
	if (nrss > 0) {
		print ""
		print "## Memory after prefill (VmRSS)"
		print ""
		print "| daemon | keys | nodes | RSS MiB | bytes per node (RSS - RSS at start) / nodes |"
		print "| --- | --: | --: | --: | --: |"
		for (i = 1; i <= nrss; i++) {
			k = rss[i]
			split(k, f, SUBSEP)
			printf "| %s | %d | %d | %.1f | %.0f |\n", f[1], f[2], \
				rss_nodes[k], med(RSSKB, k) / 1024, rss_per_node[k]
		}
	}

	# --- durability ---
	if (ndur > 0) {
		print ""
		print "## Durability (lxenstored --sync=write, automatic snapshots off)"
		print ""
		print "| | |"
		print "| --- | --- |"
		split("keys=keys prefilled (nodes: keys + 1%)|" \
		      "snapshot_ms=snapshot write time under load, as the daemon reports it, ms|" \
		      "snapshot_wall_ms=snapshot, from the request until status shows it installed (polled every 20 ms), ms|" \
		      "snapshot_file_bytes=snapshot file, bytes|" \
		      "records=log records written after the snapshot|" \
		      "status=xenstore-control status before the restarts|" \
		      "state_dir_bytes=state directory, bytes|" \
		      "rss_before_restart_kb=VmRSS before the restarts, KiB|" \
		      "rss_after_restart_kb=VmRSS after a restart, KiB|" \
		      "keys_after_restart=/bench/n-count after the restarts|" \
		      "restart_snapshot_only_ms=restart from a snapshot alone: exec until the first answer, ms|" \
		      "restart_snapshot_only_cpu_ms=restart from a snapshot alone: daemon CPU time until then, ms", \
		      dd, "|")
		for (i in dd) {
			split(dd[i], kv, "=")
			dname[kv[1]] = kv[2]
		}
		for (i = 1; i <= ndur; i++) {
			k = durk[i]
			t = k
			if (k in dname)
				t = dname[k]
			else if (k ~ /^restart_ms_/)
				t = "restart " substr(k, 12) ": exec until the first answer, ms"
			else if (k ~ /^restart_cpu_ms_/)
				t = "restart " substr(k, 16) ": daemon CPU time until then, ms"
			else if (k ~ /^recovery_/)
				t = "restart " substr(k, 10) ": the daemon's recovery line"
			printf "| %s | %s |\n", t, dur[k]
		}
		bk = dfirst["keys"]
		printf "| mixed, 8 clients, no snapshot: p99 / max | %s / %s us |\n", \
			num(m(P99, "dur-base", "lx-dur", "mixed", 8, 1, bk), "%.0f"), \
			num(m(MAX, "dur-base", "lx-dur", "mixed", 8, 1, bk), "%.0f")
		printf "| mixed, 8 clients, snapshot written meanwhile: p99 / max | %s / %s us |\n", \
			num(m(P99, "dur-snap", "lx-dur", "mixed", 8, 1, bk), "%.0f"), \
			num(m(MAX, "dur-snap", "lx-dur", "mixed", 8, 1, bk), "%.0f")
	}

	# --- targets ---
	print ""
	print "## Targets (lx = default --sync=write unless named)"
	print ""
	print "| target | measured | |"
	print "| --- | --- | --- |"
	split("read write dir txn", w4, " ")
	for (i = 1; i <= 4; i++)
		for (c = 1; c <= 8; c += 7)
			verdict("issue 8: CPU/op lx/cx, " w4[i] ", " c " client(s)", \
				ratio(m(CPU, "main", "lx", w4[i], c, 1, main_keys), \
				      m(CPU, "main", "cx", w4[i], c, 1, main_keys)), "<=", 0.5)
	split("read write mixed", w3, " ")
	for (i = 1; i <= 3; i++)
		verdict("issue 8: ops/s lx/cx, " w3[i] ", 8 clients", \
			ratio(m(OPS, "main", "lx", w3[i], 8, 1, main_keys), \
			      m(OPS, "main", "cx", w3[i], 8, 1, main_keys)), ">=", 1.5)
	split("txn txn-contended", w2, " ")
	for (i = 1; i <= 2; i++)
		verdict("issue 8: ops/s lx/cx, " w2[i] ", 8 clients", \
			ratio(m(OPS, "main", "lx", w2[i], 8, 1, main_keys), \
			      m(OPS, "main", "cx", w2[i], 8, 1, main_keys)), ">=", 2)
	verdict("issue 8: watch fan-out events/s lx/cx, 100 watchers", \
		ratio(m(OPS, "main", "lx", "watch", 100, 8, main_keys), \
		      m(OPS, "main", "cx", "watch", 100, 8, main_keys)), ">=", 2)
	for (i = 1; i <= 2; i++) {
		w = i == 1 ? "read" : "write"
		verdict("issue 8: pipelined " w " (1 client, 16 in flight) lx/cx", \
			ratio(m(OPS, "main", "lx", w, 1, 16, main_keys), \
			      m(OPS, "main", "cx", w, 1, 16, main_keys)), ">=", 3)
	}
	for (i = 1; i <= nrss; i++) {
		split(rss[i], f, SUBSEP)
		if (f[1] != "lx" || (f[2] != 100000 && f[2] != 1000000))
			continue
		if (!(("cx" SUBSEP f[2]) in rss_per_node)) {
			printf "| issue 8: RSS/node lx <= cx at %d keys | lx %.0f B/node; cx not grown that far | not measurable |\n", \
				f[2], rss_per_node["lx" SUBSEP f[2]]
			continue
		}
		verdict("issue 8: RSS/node lx/cx at " f[2] " keys", \
			ratio(rss_per_node["lx" SUBSEP f[2]], rss_per_node["cx" SUBSEP f[2]]), "<=", 1)
	}
	if (nsizes > 1)
		for (i = 1; i <= 2; i++)
			for (c = 1; c <= 8; c += 7) {
				w = i == 1 ? "read" : "write"
				verdict("issue 8: lx CPU/op at " sizes[nsizes] " / at " sizes[1] \
					" keys, " w ", " c " client(s) (flat: <= 1.2)", \
					flat["lx" SUBSEP w SUBSEP c], "<=", 1.2)
			}
	for (c = 1; c <= 8; c += 7)
		verdict("issue 3: write CPU/op --sync=write / --sync=none, " c " client(s)", \
			ratio(m(CPU, "main", "lx", "write", c, 1, main_keys), \
			      m(CPU, "main", "lx-none", "write", c, 1, main_keys)), "<=", 1.1)
	verdict("issue 3: write ops/s lx-always/cx, 64 writers", \
		ratio(m(OPS, "main", "lx-always", "write", 64, 1, main_keys), \
		      m(OPS, "main", "cx", "write", 64, 1, main_keys)), ">=", 1)
	verdict("issue 3: write ops/s lx-always/cx, 8 writers", \
		ratio(m(OPS, "main", "lx-always", "write", 8, 1, main_keys), \
		      m(OPS, "main", "cx", "write", 8, 1, main_keys)), ">=", 0.5)
	if (ndur > 0) {
		verdict("issue 3: restart, " dfirst["keys"] " keys + " dfirst["records"] \
			" log records after the snapshot, ms (median)", \
			median(restart_wall), "<=", 2000)
		verdict("issue 3: the same, daemon CPU time until it answered, ms (median)", \
			median(restart_cpu), "<=", 2000)
		v = m(MAX, "dur-snap", "lx-dur", "mixed", 8, 1, dfirst["keys"])
		verdict("issue 3: longest request wait while a snapshot of " dfirst["keys"] \
			" keys is written, ms", v == "" ? "" : v / 1000, "<=", 10)
	}
}
