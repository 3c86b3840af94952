/** Node/OpenSSL error codes that mean the same thing to every TLS client here (LDAP and iLobby). */

/** The certificate chain does not lead to a trusted CA. */
export const UNTRUSTED_CERT_CODES: ReadonlySet<string> = new Set([
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "CERT_UNTRUSTED",
  "CERT_SIGNATURE_FAILURE",
]);

/** The server speaks no TLS version we accept (1.2 and newer). */
export const OLD_TLS_CODES: ReadonlySet<string> = new Set([
  "ERR_SSL_UNSUPPORTED_PROTOCOL",
  "ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION",
  "ERR_SSL_WRONG_VERSION_NUMBER",
  "ERR_SSL_NO_PROTOCOLS_AVAILABLE",
]);
