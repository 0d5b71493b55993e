// Package metrics exposes what dirbridge's daemon does to Prometheus, and
// answers health checks: after each run the daemon calls Observe with the
// run's Result and error, and an HTTP server (off by default) serves
//
//	/metrics   the Prometheus exposition (client_golang, a private registry)
//	/healthz   200 while syncs succeed, 503 with the reason otherwise
//	/          a short index of the two
//
// The metrics, all prefixed dirbridge_ (every label value is pre-set to 0,
// so that dashboards and rate() see each series from the first scrape):
//
//	build_info{version}                      1
//	runs_total{result}                       runs by result: ok, no_changes, dry_run, refused,
//	                                         failed, stopped (sync.Result.Outcome), or error (a run
//	                                         that failed before it could plan, e.g. the directory
//	                                         could not be read)
//	run_duration_seconds                     histogram, 0.1 s to 1 h
//	last_run_timestamp_seconds               when the last run ended
//	last_success_timestamp_seconds           when the last successful run ended (0: none yet)
//	next_run_timestamp_seconds               when the next run is due
//	source_users, source_groups              what the directory returned (normalized)
//	source_warnings                          directory entries left out or changed by normalization
//	org_members, org_groups                  what the organization holds (members of any status)
//	managed_members, managed_groups          what of it dirbridge manages
//	plan_operations{action}                  the last plan, by action
//	operations_planned_total{action}         operations planned, over all runs
//	operations_applied_total{action}         operations that took effect
//	operations_failed_total{action}          operations that failed
//	guard_refusals_total{guard}              runs a guard refused (once per run, however many
//	                                         limits of that guard tripped)
//	guard_refused{guard}                     1 while the last plan is refused by the guard
//
// plus the Go runtime's go_* and the process's process_* metrics.
//
// A successful run is one whose outcome is ok or no_changes: the
// organization is in step with the directory. A dry run changes nothing and
// a refused run leaves the refused part undone, so neither is a success,
// even when everything it did apply went well. The gauges that describe the
// last run (users, groups, plan_operations, guard_refused) keep their
// values through a run that fails before planning: such a run says nothing
// about the directory, and a standing refusal is not lifted until a run
// plans again without it.
//
// /healthz fails (503) when the last plan was refused by a guard, or when
// the last successful run is older than health_max_age. A process that has
// not had a successful run yet is healthy ("starting") for health_max_age
// after it started, so a restart does not page anyone while the first run
// is under way; after that it fails with "no successful sync yet". The
// answer is one line of plain text, or JSON with ?format=json or an Accept
// header that asks for application/json. Status returns the same, for the
// daemon's own status line.
//
// The configuration, under metrics: in dirbridge's YAML (defaults shown):
//
//	metrics:
//	  listen: ""            # host:port to serve /metrics and /healthz on, e.g. 127.0.0.1:9466; "" is off
//	  health_max_age: 2h    # /healthz fails when the last successful sync is older
//
// The server has no authentication: bind it to loopback or a management
// network. Neither endpoint shows a secret: the metrics are counts, and
// /healthz adds guard reasons and the last run's error text, which may name
// a member or group.
package metrics
