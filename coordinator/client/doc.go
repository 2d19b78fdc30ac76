// Package client is the Go client of the fabgrid coordinator HTTP API (/v1/),
// used by the fabgrid CLI and by the worker daemon.
//
// A Client knows several coordinator URLs. It talks to one of them and moves to
// the next when that one cannot be reached or has no leader; any coordinator
// will do, because followers forward writes to the leader themselves.
//
//	call ──► endpoint i ──ok──► decode JSON into the coordinator/api wire types
//	            │
//	            ├─ dial error ──────────────► next endpoint at once (always safe)
//	            ├─ other transport error ──┐
//	            └─ 502/503/504 (no_leader) ─┴► idempotent call? backoff + jitter,
//	                                          next endpoint; otherwise give up
//
// Every API error comes back as an *APIError carrying the status and the
// {"error","code"} body; use errors.As. Order submission is made idempotent by
// a client-generated request_id, so it is retried like a read. The model is
// streamed as multipart (never buffered whole) with a progress callback, and
// downloads are checked against their sha256.
package client
