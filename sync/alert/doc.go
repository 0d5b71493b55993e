// Package alert tells a person when a safety guard refuses a plan, or part
// of one: it runs a command and/or POSTs to a webhook with a JSON document
// describing the refusal.
//
// The configuration is the alerts block of dirbridge's configuration. Each
// channel is off while its key is empty; both may be on, and Send uses them
// at once.
//
//	alerts:
//	  # Run with /bin/sh -c, the alert JSON on stdin. Default "" (off).
//	  command: /usr/local/bin/dirbridge-alert
//	  # POST the alert JSON here: https, or http on a loopback host only.
//	  # Default "" (off).
//	  webhook: https://alerts.example.com/hooks/dirbridge
//	  # Extra request headers. Default none.
//	  webhook_headers:
//	    Authorization: Bearer ${ALERT_TOKEN}
//	  # Bounds the command, and each webhook attempt. Default 30s.
//	  timeout: 30s
//
// # The document
//
// Both channels receive the same JSON object. Its keys are stable: new keys
// may be added, none is renamed or removed.
//
//	{
//	  "kind": "refusal",                  // what happened; always "refusal" for now
//	  "time": "2026-03-02T07:00:12.345Z", // when the refusing run ended (RFC 3339, UTC)
//	  "run_id": "4c1a9e0b2f3d",           // the run's id, as in its log lines
//	  "dry_run": false,                   // true when the refusing run was a dry run
//	  "host": "sync01",                   // the machine dirbridge runs on
//	  "organization": "6f0c...",          // the Bitwarden organization's id
//	  "source": "ldap",                   // the source's type
//	  "text": "dirbridge on sync01 held back part of the plan ...", // one line for a person
//	  "refusals": [                       // one per refusing guard
//	    {
//	      "guard": "max_deletes",         // scim, empty_source, max_deletes, threshold,
//	                                      // scope_change, source_drop or seats
//	      "reason": "14 revocations and removals exceed ...", // what tripped it, what to do
//	      "hold": "destructive",          // what it holds: "destructive", "invites" or "all"
//	      "held": 15                      // how many operations it holds
//	    }
//	  ],
//	  "affected": [                       // each held operation that takes access away,
//	                                      // and each held invitation, once
//	    {
//	      "action": "revoke",             // revoke, remove, delete_group, set_group_members, invite
//	      "subject": "ada@example.com",   // the member's email, or the group's name
//	      "external_id": "7d1f..."        // the member's or group's external id
//	    },
//	    {
//	      "action": "set_group_members",
//	      "subject": "Engineering",
//	      "external_id": "cn=engineering,ou=groups,dc=example,dc=com",
//	      "removed": ["bob@example.com"]  // membership changes only: who would be taken out
//	    }
//	  ]
//	}
//
// A membership change appears in affected when it takes members out of a
// group; the members it adds are not listed. Under the scim guard, which
// holds the whole plan, affected lists the destructive operations and the
// invitations, not links, restorations or group creations.
//
// # The command
//
// The command runs as /bin/sh -c '<command>' in its own process group, with
// the document (and a newline) on stdin and its stdout discarded. It must
// exit 0 within the timeout: on a non-zero exit the error quotes the first
// 4 KiB of its stderr, and at the timeout the whole process group is
// killed.
//
// The command does not inherit dirbridge's environment, which holds the
// secrets the configuration's ${VAR}s name. It gets PATH, HOME, USER,
// LOGNAME, SHELL, LANG, LANGUAGE, LC_*, TZ, TMPDIR and systemd's
// CREDENTIALS_DIRECTORY, STATE_DIRECTORY, RUNTIME_DIRECTORY and
// INVOCATION_ID when dirbridge has them, and a summary of the alert:
//
//	DIRBRIDGE_ALERT_KIND=refusal
//	DIRBRIDGE_ALERT_RUN_ID=4c1a9e0b2f3d
//	DIRBRIDGE_ALERT_DRY_RUN=false
//	DIRBRIDGE_ALERT_ORGANIZATION=6f0c...
//	DIRBRIDGE_ALERT_SOURCE=ldap
//	DIRBRIDGE_ALERT_GUARDS=max_deletes,threshold
//	DIRBRIDGE_ALERT_HOLDS=destructive
//	DIRBRIDGE_ALERT_AFFECTED=15
//	DIRBRIDGE_ALERT_TEXT=dirbridge on sync01 held back part of the plan ...
//
// The configuration loader expands ${VAR} when it reads the file, so the
// command refers to these as $DIRBRIDGE_ALERT_TEXT (or $${...}), which the
// shell expands when the alert goes out:
//
//	command: mail -s "$DIRBRIDGE_ALERT_TEXT" it-oncall@example.com
//
// A command that needs a credential should read it from a file (under
// systemd, LoadCredential= and $CREDENTIALS_DIRECTORY) rather than from a
// ${VAR} in the command line, which every local user can see in ps.
//
// # The webhook
//
// The webhook receives the document as a POST with Content-Type
// application/json, User-Agent dirbridge and the configured headers,
// through the retrying client every dirbridge HTTP peer shares: 429 and 503
// wait for their Retry-After, other 5xx answers and connection errors are
// retried with exponential backoff (seven attempts in all, each bounded by
// the timeout, with about 30 seconds of backoff between them, or a
// Retry-After of up to a minute each), and any other status fails at once
// with the start of the body in the error. The context given to Send bounds
// the whole. Redirects are not followed. Messages and logs name the
// webhook by its scheme and host only, since a chat webhook's path is its
// secret.
//
// # Use
//
//	n, err := alert.New(cfg.Alerts, logger)
//	...
//	if len(res.Refusals) > 0 {
//		if err := n.Send(ctx, alert.FromResult(res, orgID, "ldap")); err != nil {
//			// each failed channel is an *alert.ChannelError
//		}
//	}
//
// Send logs one Info line per channel that delivered and a Warn line per
// webhook retry; it returns a final failure without logging it.
package alert
