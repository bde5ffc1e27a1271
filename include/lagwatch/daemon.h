/*
 * daemon.h — `lagwatch run`: the agent as a long-running process. One thread, one loop: the
 * HTTP client's sockets, the HTTP endpoint's descriptor and a signal self-pipe are waited on
 * together (http_client_poll_fds); timers come from sched.h (each source and each rule group on
 * its own interval with a stable, staggered phase). Sources write into the sample store, rule
 * groups evaluate over it, alerts go through suppression (failover holds, silences, inhibit
 * rules, time intervals) and the dispatcher into the persisted outbox and out to receivers.
 *
 * State in global.state_dir (state.h): "alerts" (rule alert states, so `for` survives a
 * restart), "silences", "nflog", "failover", and one "outbox/<id>" per queued notification;
 * written when they change and at shutdown. A corrupt file is reported, moved aside and that
 * piece starts empty.
 *
 * Signals: SIGHUP reloads (new config and rule files loaded and validated fully first; on any
 * error the old ones stay and the log says why; alert state carries over for unchanged rules);
 * SIGTERM and SIGINT stop: requests in flight get a bounded wait, state is flushed, exit 0.
 */
#ifndef LAGWATCH_DAEMON_H
#define LAGWATCH_DAEMON_H

#include <stdint.h>

#define DAEMON_SHUTDOWN_WAIT_MS 5000 /* in-flight requests get this long at SIGTERM */

struct daemon_options {
    const char *config_path;
};

/* Run until SIGTERM/SIGINT. Returns the process exit code: 0 after a clean stop, 2 when the
 * config (or its rule files, or the listen address, or state_dir) is bad at start, 1 on a fatal
 * runtime error. */
int daemon_run(const struct daemon_options *o);

#endif
