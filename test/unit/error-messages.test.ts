/**
 * The first-hour failures, each fed to the describe* function that explains it, shaped as the real libraries
 * raise them: Node's TLS error codes, ldapts's result-code errors with AD's diagnostic text, undici's
 * TypeError("fetch failed") with the socket error as its cause. Each message's key phrase (what happened, and
 * the key or command that fixes it) is pinned, so a reword cannot quietly lose the way out.
 */
import {
  ConfidentialityRequiredError,
  InvalidCredentialsError,
  InvalidDNSyntaxError,
  NoSuchObjectError,
  StrongAuthRequiredError,
  TimeLimitExceededError,
} from "ldapts";
import { describe, expect, it } from "vitest";
import {
  describeHttpError,
  describeNetworkError,
  HttpStatusError,
} from "../../src/adapters/ilobby/http-errors.ts";
import {
  describeBindError,
  describeConnectError,
  describeSearchError,
  isConnectionFailure,
} from "../../src/adapters/ldap/ldap-errors.ts";
import { bindNameForm, describeBindNameProblem } from "../../src/core/bind-name.ts";
import { SyncError } from "../../src/core/errors.ts";

const DC = "ldaps://dc1.corp.example.com";
const API = "https://partnerapi.goilobby.com/auth/connect/token";

function nodeError(message: string, code: string): Error {
  return Object.assign(new Error(message), { code });
}

/** undici's shape: fetch() rejects with TypeError("fetch failed") and the socket error as its cause. */
function fetchFailed(cause: Error): TypeError {
  return new TypeError("fetch failed", { cause });
}

/** AD's diagnostic text for a refused simple bind, as ldapts passes it on. */
const adBindRefusal = (subcode: string) =>
  new InvalidCredentialsError(
    `80090308: LdapErr: DSID-0C090569, comment: AcceptSecurityContext error, data ${subcode}, v4563`,
  );

describe("unknown CA", () => {
  for (const code of [
    "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
    "SELF_SIGNED_CERT_IN_CHAIN",
    "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  ]) {
    it(`directory (${code}): set directory.caFile`, () => {
      const error = nodeError("unable to verify the first certificate", code);
      expect(isConnectionFailure(error)).toBe(true);
      const described = describeConnectError(error, DC, undefined);
      expect(described.message).toContain("certificate is not trusted");
      expect(described.likelyCause).toContain("enterprise CA");
      expect(described.fix).toMatch(/^set directory\.caFile to your enterprise root CA certificate \(PEM\)/);
      expect(described.category).toBe("directory");
    });
  }

  it("directory with a caFile that did not issue it: names the file", () => {
    const described = describeConnectError(
      nodeError("self-signed certificate in certificate chain", "SELF_SIGNED_CERT_IN_CHAIN"),
      DC,
      "/etc/ilobby-sync/ca.pem",
    );
    expect(described.likelyCause).toBe(
      "the certificate was not issued by the CA in directory.caFile (/etc/ilobby-sync/ca.pem)",
    );
  });

  it("iLobby behind a TLS-inspecting proxy: set ilobby.caFile", () => {
    const described = describeNetworkError(
      fetchFailed(nodeError("self-signed certificate in certificate chain", "SELF_SIGNED_CERT_IN_CHAIN")),
      API,
      true,
    );
    expect(described).toBeInstanceOf(SyncError);
    expect(described.message).toContain("is not trusted");
    expect((described as SyncError).likelyCause).toContain("TLS-inspecting proxy");
    expect((described as SyncError).fix).toMatch(/^set ilobby\.caFile/);
  });
});

describe("host name mismatch", () => {
  const mismatch = nodeError(
    "Hostname/IP does not match certificate's altnames: Host: 10.0.0.5. is not in the cert's altnames: DNS:dc1.corp.example.com",
    "ERR_TLS_CERT_ALTNAME_INVALID",
  );

  it("directory: use the DNS name exactly as in the certificate", () => {
    const described = describeConnectError(mismatch, "ldaps://10.0.0.5", undefined);
    expect(described.message).toContain("does not match the host name");
    expect(described.message).toContain("DNS:dc1.corp.example.com");
    expect(described.fix).toContain("DNS name exactly as in its certificate");
  });

  it("iLobby: check the host in ilobby.baseUrl", () => {
    const described = describeNetworkError(fetchFailed(mismatch), API, false) as SyncError;
    expect(described.message).toContain("does not match the host name");
    expect(described.fix).toContain("ilobby.baseUrl");
  });
});

describe("expired certificate", () => {
  it("directory: renew the DC's certificate", () => {
    const described = describeConnectError(
      nodeError("certificate has expired", "CERT_HAS_EXPIRED"),
      DC,
      undefined,
    );
    expect(described.message).toContain("has expired");
    expect(described.fix).toContain("renew");
  });

  it("iLobby: check the clock, or the proxy's certificate", () => {
    const described = describeNetworkError(
      fetchFailed(nodeError("certificate has expired", "CERT_HAS_EXPIRED")),
      API,
      true,
    );
    expect(described).toBeInstanceOf(SyncError);
    expect(described.message).toContain("has expired");
    expect((described as SyncError).fix).toContain("clock");
  });
});

describe("wrong bind DN format", () => {
  it("knows the three forms AD accepts", () => {
    expect(bindNameForm("CN=svc-ilobby,OU=Service Accounts,DC=corp,DC=example,DC=com")).toBe("dn");
    expect(bindNameForm("svc-ilobby@corp.example.com")).toBe("upn");
    expect(bindNameForm("CORP\\svc-ilobby")).toBe("down-level");
    expect(bindNameForm("svc-ilobby")).toBe("unknown");
    expect(bindNameForm("svc ilobby")).toBe("unknown");
    expect(describeBindNameProblem("svc-ilobby@corp.example.com")).toBeUndefined();
  });

  for (const subcode of ["52e", "525"]) {
    it(`a bare account name refused with data ${subcode}: says the name is the problem, and how to write it`, () => {
      const described = describeBindError(adBindRefusal(subcode), DC, "svc-ilobby");
      expect(described.message).toContain('bind as "svc-ilobby" was refused (invalid credentials)');
      expect(described.likelyCause).toContain('"svc-ilobby" is neither a DN, a UPN nor DOMAIN\\user');
      expect(described.fix).toContain("svc-ilobby@corp.example.com");
      expect(described.fix).toContain("CORP\\svc-ilobby");
      expect(described.fix).toContain("directory.bindDn");
    });
  }

  it("an account that does not exist (525, well-formed name): check directory.bindDn", () => {
    const described = describeBindError(adBindRefusal("525"), DC, "svc-ilobyb@corp.example.com");
    expect(described.likelyCause).toBe("the bind account does not exist");
    expect(described.fix).toContain("directory.bindDn");
  });
});

describe("invalid credentials", () => {
  it("a wrong password (52e): store it again with secret set bind-password", () => {
    const described = describeBindError(adBindRefusal("52e"), DC, "svc-ilobby@corp.example.com");
    expect(described.category).toBe("directory");
    expect(described.likelyCause).toContain("the bind password is wrong");
    expect(described.fix).toContain("ilobby-sync secret set bind-password");
    expect(described.data).toMatchObject({ subcode: "52e" });
  });

  it.each([
    ["533", "disabled"],
    ["775", "locked out"],
    ["532", "password has expired"],
  ])("AD's reason data %s: %s", (subcode, phrase) => {
    expect(describeBindError(adBindRefusal(subcode), DC, "CORP\\svc-ilobby").likelyCause).toContain(phrase);
  });
});

describe("OU that does not exist", () => {
  const base = "OU=Ofices,DC=corp,DC=example,DC=com";

  it("noSuchObject (32): names the base, where the typo starts, and where to copy the DN from", () => {
    const error = new NoSuchObjectError(
      "0000208D: NameErr: DSID-0310028D, problem 2001 (NO_OBJECT), data 0, best match of:\n\t'DC=corp,DC=example,DC=com'\n",
    );
    const described = describeSearchError(error, DC, base);
    expect(described.message).toBe(`search base "${base}" does not exist on ${DC}`);
    expect(described.likelyCause).toContain('the directory has "DC=corp,DC=example,DC=com"');
    expect(described.fix).toContain("directory.searchBases");
    expect(described.fix).toContain("distinguishedName");
  });

  it("invalidDNSyntax (34): a base that is not a DN at all", () => {
    const described = describeSearchError(
      new InvalidDNSyntaxError("invalid DN syntax: Offices"),
      DC,
      "Offices",
    );
    expect(described.message).toContain("is not a distinguished name");
    expect(described.fix).toContain("OU=Staff,DC=corp");
  });

  it("timeLimitExceeded (3): the search outlasted directory.timeoutSeconds", () => {
    const described = describeSearchError(new TimeLimitExceededError("time limit exceeded"), DC, base);
    expect(described.message).toBe(`the search under "${base}" exceeded directory.timeoutSeconds`);
  });
});

describe("binds that need encryption", () => {
  it.each([
    ["strongerAuthRequired (8)", new StrongAuthRequiredError("00002028: LdapErr: DSID-0C090259")],
    ["confidentialityRequired (13)", new ConfidentialityRequiredError("confidentiality required")],
  ])("%s: use ldaps:// or StartTLS", (_name, error) => {
    const described = describeBindError(error, "ldap://dc1.corp.example.com", "CORP\\svc-ilobby");
    expect(described.message).toBe(
      "ldap://dc1.corp.example.com: the server requires an encrypted connection for binds",
    );
    expect(described.fix).toContain("directory.startTls: true");
  });
});

describe("proxy needed (iLobby unreachable directly)", () => {
  it.each(["ECONNREFUSED", "ETIMEDOUT", "ENETUNREACH", "EHOSTUNREACH", "UND_ERR_CONNECT_TIMEOUT"])(
    "%s: retried, with a hint naming ilobby.proxy and HTTPS_PROXY",
    (code) => {
      const described = describeNetworkError(
        fetchFailed(nodeError(`connect ${code} 52.1.2.3:443`, code)),
        API,
        false,
      );
      expect(described).not.toBeInstanceOf(SyncError);
      expect(described.message).toBe(`cannot connect to partnerapi.goilobby.com (${code})`);
      expect((described as { hint?: string }).hint).toContain("set ilobby.proxy (or HTTPS_PROXY)");
    },
  );

  it("ENOTFOUND: DNS, or a proxy", () => {
    const described = describeNetworkError(
      fetchFailed(nodeError("getaddrinfo ENOTFOUND partnerapi.goilobby.com", "ENOTFOUND")),
      API,
      false,
    ) as SyncError;
    expect(described.message).toBe("cannot resolve partnerapi.goilobby.com");
    expect(described.fix).toContain("set ilobby.proxy (or HTTPS_PROXY)");
  });

  it("a timeout: a proxy, or a longer ilobby.timeoutSeconds", () => {
    const timeout = new DOMException("The operation was aborted due to timeout", "TimeoutError");
    const described = describeNetworkError(timeout, API, false);
    expect(described.message).toBe("partnerapi.goilobby.com did not answer in time");
    expect((described as { hint?: string }).hint).toContain("set ilobby.proxy (or HTTPS_PROXY)");
    expect((described as { hint?: string }).hint).toContain("ilobby.timeoutSeconds");
  });

  it("through a proxy that refuses connections: check the proxy, not add one", () => {
    const described = describeNetworkError(
      fetchFailed(nodeError("connect ECONNREFUSED", "ECONNREFUSED")),
      API,
      true,
    );
    expect((described as { hint?: string }).hint).toContain(
      "check the proxy address in ilobby.proxy or HTTPS_PROXY",
    );
  });
});

describe("wrong client id or secret", () => {
  it.each([400, 401])("token HTTP %i: the client id or its secret, and the command to store it", (status) => {
    const described = describeHttpError(
      new HttpStatusError("token", status, '{"error":"invalid_client"}', null),
      {
        clientId: "my-client",
      },
    );
    expect(described.message).toContain(`iLobby refused the client credentials (HTTP ${status})`);
    expect(described.message).toContain("invalid_client");
    expect(described.likelyCause).toContain('the client id "my-client" or its secret is wrong');
    expect(described.fix).toContain("ilobby.clientId");
    expect(described.fix).toContain("ilobby-sync secret set client-secret");
    expect(described.category).toBe("ilobby");
  });
});
