/**
 * A throw-away certificate authority for tests, made with the openssl CLI (present on Debian and in CI).
 * Every test server (LDAPS directory, iLobby emulator, Samba AD DC) gets a server certificate from a CA like this,
 * so the client verifies chains and host names for real instead of disabling TLS checks.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export interface TestCa {
  dir: string;
  certFile: string;
  keyFile: string;
  certPem: string;
}

export interface ServerCert {
  certFile: string;
  keyFile: string;
  certPem: string;
  keyPem: string;
}

function openssl(args: string[], cwd: string): void {
  execFileSync("openssl", args, { cwd, stdio: ["ignore", "ignore", "pipe"] });
}

/** Creates a CA (EC P-256 keys: fast to generate) in `dir`. */
export function createTestCa(dir: string, commonName = "ilobby-sync Test CA"): TestCa {
  mkdirSync(dir, { recursive: true });
  const keyFile = join(dir, "ca.key");
  const certFile = join(dir, "ca.pem");
  openssl(["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", keyFile], dir);
  openssl(
    [
      "req",
      "-x509",
      "-new",
      "-key",
      keyFile,
      "-sha256",
      "-days",
      "30",
      "-subj",
      `/CN=${commonName}`,
      "-addext",
      "basicConstraints=critical,CA:TRUE",
      "-addext",
      "keyUsage=critical,keyCertSign,cRLSign",
      "-out",
      certFile,
    ],
    dir,
  );
  return { dir, certFile, keyFile, certPem: readFileSync(certFile, "utf8") };
}

/**
 * Issues a server certificate signed by `ca`. `altNames` are subjectAltName entries such as
 * "DNS:localhost" or "IP:127.0.0.1"; Node checks host names against these only.
 */
export function issueServerCert(
  ca: TestCa,
  name: string,
  altNames: string[] = ["DNS:localhost", "IP:127.0.0.1"],
  options: { rsa?: boolean; days?: number } = {},
): ServerCert {
  const keyFile = join(ca.dir, `${name}.key`);
  const csrFile = join(ca.dir, `${name}.csr`);
  const certFile = join(ca.dir, `${name}.pem`);
  const extFile = join(ca.dir, `${name}.ext`);
  if (options.rsa) {
    // Samba's GnuTLS and old-TLS test servers are happiest with RSA keys.
    openssl(["genrsa", "-out", keyFile, "2048"], ca.dir);
  } else {
    openssl(["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", keyFile], ca.dir);
  }
  openssl(["req", "-new", "-key", keyFile, "-subj", `/CN=${name}`, "-out", csrFile], ca.dir);
  writeFileSync(
    extFile,
    [
      "basicConstraints=CA:FALSE",
      "keyUsage=critical,digitalSignature,keyEncipherment",
      "extendedKeyUsage=serverAuth",
      `subjectAltName=${altNames.join(",")}`,
      "",
    ].join("\n"),
  );
  openssl(
    [
      "x509",
      "-req",
      "-in",
      csrFile,
      "-CA",
      ca.certFile,
      "-CAkey",
      ca.keyFile,
      "-CAcreateserial",
      "-days",
      String(options.days ?? 30),
      "-sha256",
      "-extfile",
      extFile,
      "-out",
      certFile,
    ],
    ca.dir,
  );
  return {
    certFile,
    keyFile,
    certPem: readFileSync(certFile, "utf8"),
    keyPem: readFileSync(keyFile, "utf8"),
  };
}

export interface ClientCertificate {
  /** One PEM file holding the certificate and its unencrypted private key, as `certificateFile` expects. */
  pemFile: string;
  certPem: string;
  keyPem: string;
}

/**
 * A self-signed RSA certificate of the kind uploaded to an Entra app registration (client assertions are signed
 * with RSA: PS256), written with its unencrypted PKCS#8 key into one PEM file.
 */
export function createClientCertificate(dir: string, name: string): ClientCertificate {
  mkdirSync(dir, { recursive: true });
  const keyFile = join(dir, `${name}.key`);
  const certFile = join(dir, `${name}.crt`);
  openssl(
    ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", keyFile, "-sha256", "-days", "30"].concat([
      "-subj",
      `/CN=${name}`,
      "-out",
      certFile,
    ]),
    dir,
  );
  const certPem = readFileSync(certFile, "utf8");
  const keyPem = readFileSync(keyFile, "utf8");
  const pemFile = join(dir, `${name}.pem`);
  writeFileSync(pemFile, certPem + keyPem, { mode: 0o600 });
  return { pemFile, certPem, keyPem };
}
