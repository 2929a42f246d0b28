-- Migration 10: phone numbers by libphonenumber and a per-application OTP policy (SPEC §14, §15).
-- applications.policy: the app's policy as JSON (NULL = the defaults). otp_requests record the
-- number's region and type and the policy in force at the send (code shape, attempts, locale);
-- identities record region and type. Rows written before this migration have NULL number
-- facts; the server backfills them in small batches (the partial indexes find them and stay
-- empty afterwards, costing new rows nothing).
ALTER TABLE applications ADD COLUMN policy TEXT;
ALTER TABLE otp_requests ADD COLUMN region TEXT;
ALTER TABLE otp_requests ADD COLUMN number_type TEXT;
ALTER TABLE otp_requests ADD COLUMN code_length INTEGER;
ALTER TABLE otp_requests ADD COLUMN code_alphabet TEXT;
ALTER TABLE otp_requests ADD COLUMN max_attempts INTEGER;
ALTER TABLE otp_requests ADD COLUMN locale TEXT;
ALTER TABLE identities ADD COLUMN region TEXT;
ALTER TABLE identities ADD COLUMN number_type TEXT;
CREATE INDEX otp_requests_missing_facts ON otp_requests(id) WHERE number_type IS NULL;
CREATE INDEX identities_missing_facts ON identities(id) WHERE number_type IS NULL;
