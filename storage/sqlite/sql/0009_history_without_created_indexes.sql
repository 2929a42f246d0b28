-- Migration 9: the OTP path's history tables lose their created_at indexes. Only retention
-- used them, and it now walks the tables in key order (UUIDv7 ids, event seq grow with time);
-- each index cost one more B-tree insert per row and one more page per group commit.
DROP INDEX otp_requests_by_created;
DROP INDEX inbox_by_created;
DROP INDEX events_by_created;
