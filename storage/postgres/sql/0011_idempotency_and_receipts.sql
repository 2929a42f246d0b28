-- Migration 11: idempotency keys and receipt signing keys (SPEC §16).
-- idempotency_keys: the first answer to a keyed request, written in the transaction of its
-- effects. scope is "app:<id>" or "developer:<id>"; fingerprint is a BLAKE2b-256 of the method,
-- the target and the body; body is the answer's bytes sealed with the server key (some carry
-- credentials). Retention deletes rows older than --idempotency-ttl-hours by created_at.
CREATE TABLE idempotency_keys (
  scope       TEXT COLLATE "C" NOT NULL,
  key         TEXT COLLATE "C" NOT NULL,
  fingerprint BYTEA NOT NULL,
  status      BIGINT NOT NULL,
  body        BYTEA NOT NULL,
  created_at  TEXT COLLATE "C" NOT NULL,
  PRIMARY KEY (scope, key)
);
CREATE INDEX idempotency_keys_created_at ON idempotency_keys(created_at);
-- receipt_keys: the ES256 key ring of verification receipts (never the console's token key).
-- kid is the RFC 7638 thumbprint; x, y the public point (base64url); private_key the PKCS#8
-- DER sealed with the server key. A key signs from signs_from until a newer key's signs_from;
-- retired_at removes it from the JWKS at once.
CREATE TABLE receipt_keys (
  kid         TEXT COLLATE "C" PRIMARY KEY,
  x           TEXT COLLATE "C" NOT NULL,
  y           TEXT COLLATE "C" NOT NULL,
  private_key BYTEA NOT NULL,
  created_at  TEXT COLLATE "C" NOT NULL,
  signs_from  TEXT COLLATE "C" NOT NULL,
  retired_at  TEXT COLLATE "C"
);
-- The send's nonce (1-128 characters), copied into the receipt of its verification.
ALTER TABLE otp_requests ADD COLUMN nonce TEXT COLLATE "C";
