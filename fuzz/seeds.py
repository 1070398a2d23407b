#!/usr/bin/env python3
"""seeds.py: writes the seed corpus of every fuzz target into fuzz/corpus/<target>/.

Run from the repository root: python3 fuzz/seeds.py. Seeds are small, meaningful
inputs (valid forms, API bodies from the IBM reference, real tokens, real key
values, IBM policies, filters, CRNs, timestamps) plus a few near misses. The
files are committed; crashing inputs found later are added next to them by hand
(named crash-<what>). Needs python3-cryptography for the token seeds.
"""
import base64
import json
import os
import zlib

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")
ACCOUNT = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
SID = "iam-ServiceId-11111111-1111-4111-8111-111111111111"
GROUP = "AccessGroupId-33333333-3333-4333-8333-333333333333"
COS = "cloud-object-storage"


def write(target, name, data):
    directory = os.path.join(ROOT, target)
    os.makedirs(directory, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(directory, name), "wb") as out:
        out.write(data)


def compact(value):
    return json.dumps(value, separators=(",", ":"))


# ---------------------------------------------------------------- form
FORMS = {
    "apikey-grant": "grant_type=urn%3Aibm%3Aparams%3Aoauth%3Agrant-type%3Aapikey&apikey=iamd_0000000000000000000000abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ000000",
    "apikey-grant-plain": "grant_type=urn:ibm:params:oauth:grant-type:apikey&apikey=abc+def",
    "refresh": "grant_type=refresh_token&refresh_token=eyJhbGciOiJSUzI1NiJ9.e30.c2ln&response_type=cloud_iam",
    "password": "grant_type=password&username=a%40example.com&password=p%26ss%3Dw%2Bord",
    "client-credentials": "grant_type=client_credentials&client_id=bx&client_secret=bx&scope=openid+ibm",
    "flag-only": "flag",
    "empty-value": "a=&b=",
    "utf8": "name=%C3%A9t%C3%A9&x=%E2%82%AC",
    "bad-escape": "a=%4",
    "nul-escape": "a=%00",
    "duplicate": "a=1&a=2",
    "trailing-amp": "a=1&",
    "many": "&".join("f%d=%d" % (i, i) for i in range(64)),
}


# ---------------------------------------------------------------- keyformat
BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def base62(number, width):
    digits = []
    for _ in range(width):
        number, remainder = divmod(number, 62)
        digits.append(BASE62[remainder])
    return "".join(reversed(digits))


def key_value(prefix, key_id, secret):
    head = "%s_%s%s" % (prefix, base62(int.from_bytes(key_id, "big"), 22), base62(int.from_bytes(secret, "big"), 43))
    return head + base62(zlib.crc32(head.encode()), 6)


def keyformat():
    key_id = bytes(range(16))
    secret = bytes(range(100, 132))
    good = key_value("iamd", key_id, secret)
    write("fuzz_keyformat", "valid", good)
    write("fuzz_keyformat", "valid-prefix", "acme\n" + key_value("acme", key_id, secret))
    write("fuzz_keyformat", "valid-max-id", key_value("iamd", b"\xff" * 16, b"\xff" * 32))
    write("fuzz_keyformat", "valid-zero", key_value("iamd", b"\0" * 16, b"\0" * 32))
    bad_crc = good[:-1] + ("0" if good[-1] != "0" else "1")
    write("fuzz_keyformat", "bad-checksum", bad_crc)
    write("fuzz_keyformat", "overflow-id", "iamd_" + "z" * 22 + good[27:])
    write("fuzz_keyformat", "short", good[:-3])
    write("fuzz_keyformat", "long", good + "0")
    write("fuzz_keyformat", "client-value", "my-own-api-key-value-that-is-long-enough-0123")
    write("fuzz_keyformat", "bad-prefix", "IAMD\n" + good)


# ---------------------------------------------------------------- tokens
def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def tokens():
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
    from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

    claims = {"iam_id": SID, "id": SID, "realmid": "iam", "sub": "ServiceId-11111111-1111-4111-8111-111111111111",
              "sub_type": "ServiceId", "account": {"bss": ACCOUNT}, "iat": 1700000000, "exp": 1700003600,
              "iss": "https://iam.fuzz.test/identity", "grant_type": "urn:ibm:params:oauth:grant-type:apikey",
              "scope": "ibm openid", "client_id": "default", "acr": 1, "amr": ["pwd"]}
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ec_key = ec.generate_private_key(ec.SECP256R1())
    ed_key = ed25519.Ed25519PrivateKey.generate()

    def sign(alg, kid, payload, header_extra=None):
        header = {"alg": alg, "kid": kid, "typ": "JWT"}
        header.update(header_extra or {})
        signing_input = b64url(compact(header).encode()) + "." + b64url(compact(payload).encode())
        data = signing_input.encode()
        if alg == "RS256":
            signature = rsa_key.sign(data, padding.PKCS1v15(), hashes.SHA256())
        elif alg == "ES256":
            r, s = decode_dss_signature(ec_key.sign(data, ec.ECDSA(hashes.SHA256())))
            signature = r.to_bytes(32, "big") + s.to_bytes(32, "big")
        else:
            signature = ed_key.sign(data)
        return signing_input + "." + b64url(signature)

    # mode 0 (even first byte): real tokens signed by keys the fuzzer does not hold
    write("fuzz_jwt_verify", "raw-rs256", b"\0" + sign("RS256", "fuzz-rs256", claims).encode())
    write("fuzz_jwt_verify", "raw-es256", b"\0" + sign("ES256", "fuzz-es256", claims).encode())
    write("fuzz_jwt_verify", "raw-eddsa", b"\0" + sign("EdDSA", "fuzz-eddsa", claims).encode())
    write("fuzz_jwt_verify", "raw-alg-none", b"\0" + (b64url(b'{"alg":"none","kid":"fuzz-rs256"}') + "." +
                                                      b64url(compact(claims).encode()) + ".").encode())
    write("fuzz_jwt_verify", "raw-hs256", b"\0" + sign("EdDSA", "fuzz-rs256", claims, {"alg": "HS256"}).encode())
    write("fuzz_jwt_verify", "raw-alg-mismatch", b"\0" + sign("ES256", "fuzz-rs256", claims).encode())
    write("fuzz_jwt_verify", "raw-kid-path", b"\0" + sign("RS256", "../../etc/passwd", claims).encode())
    write("fuzz_jwt_verify", "raw-padded", b"\0" + (sign("RS256", "fuzz-rs256", claims) + "==").encode())

    # mode 1 (odd first byte): [key][tamper hi][tamper lo] header \0 payload, signed by the fuzzer
    def structured(name, key, header, payload, tamper=7):
        header_text = header if isinstance(header, str) else compact(header)
        payload_text = payload if isinstance(payload, str) else compact(payload)
        write("fuzz_jwt_verify", name, bytes([1, key, tamper >> 8, tamper & 255]) + header_text.encode() + b"\0" +
              payload_text.encode())

    structured("signed-rs256", 0, {"alg": "RS256", "kid": "fuzz-rs256", "typ": "JWT"}, claims)
    structured("signed-es256", 1, {"alg": "ES256", "kid": "fuzz-es256", "typ": "JWT"}, claims, 300)
    structured("signed-eddsa", 2, {"alg": "EdDSA", "kid": "fuzz-eddsa"}, claims, 0)
    structured("signed-expired", 2, {"alg": "EdDSA", "kid": "fuzz-eddsa"}, dict(claims, exp=1699990000))
    structured("signed-real-exp", 2, {"alg": "EdDSA", "kid": "fuzz-eddsa"}, dict(claims, exp=1700003600.5))
    structured("signed-future-nbf", 2, {"alg": "EdDSA", "kid": "fuzz-eddsa"}, dict(claims, nbf=1800000000))
    structured("signed-wrong-iss", 2, {"alg": "EdDSA", "kid": "fuzz-eddsa"}, dict(claims, iss="https://evil/"))
    structured("signed-crit", 2, {"alg": "EdDSA", "kid": "fuzz-eddsa", "crit": ["exp"]}, claims)
    structured("signed-jku", 0, {"alg": "RS256", "kid": "fuzz-rs256", "jku": "https://evil/jwks"}, claims)
    structured("signed-none", 2, {"alg": "none", "kid": "fuzz-eddsa"}, claims)
    structured("signed-dup", 2, '{"alg":"EdDSA","kid":"fuzz-eddsa","kid":"x"}', compact(claims))
    structured("signed-array", 2, {"alg": "EdDSA", "kid": "fuzz-eddsa"}, "[1,2]")
    structured("signed-big-exp", 1, {"alg": "ES256", "kid": "fuzz-es256"}, dict(claims, exp=9223372036854775807))
    structured("signed-neg-iat", 1, {"alg": "ES256", "kid": "fuzz-es256"}, dict(claims, iat=-9223372036854775807))


# ---------------------------------------------------------------- JSON bodies
# first byte: low 7 bits pick the member list of fuzz_json_body.c, high bit allows an empty body
BODIES = [
    (0, "serviceid-create", {"account_id": ACCOUNT, "name": "billing-app", "description": "Billing batch jobs",
                             "unique_instance_crns": ["crn:v1:bluemix:public:cloud-object-storage:global:a/" + ACCOUNT + ":1a2b::"]}),
    (0, "serviceid-create-key", {"account_id": ACCOUNT, "name": "app", "apikey": {"name": "k", "store_value": True}}),
    (1, "serviceid-update", {"name": "renamed", "description": "", "unique_instance_crns": []}),
    (2, "apikey-create", {"name": "billing-key-1", "iam_id": SID, "description": "key", "store_value": False,
                          "expires_at": "2049-01-02T18:30+0000", "action_when_leaked": "DISABLE"}),
    (2, "apikey-create-rfc3339", {"name": "k", "iam_id": SID, "expires_at": "2049-01-02T18:30:00.123Z"}),
    (3, "apikey-update", {"name": "k2", "support_sessions": True, "expires_at": ""}),
    (4, "group-create", {"name": "developers", "description": "Group for developers"}),
    (5, "group-members", {"members": [{"iam_id": "IBMid-50PJGPKYJJ", "type": "user"}, {"iam_id": SID, "type": "service"}]}),
    (6, "all-groups", {"type": "user", "groups": [GROUP]}),
    (7, "account-create", {"name": "team", "owner": {"login": "o@example.com", "email": "o@example.com",
                                                   "given_name": "O", "family_name": "W", "password": "correct horse"}}),
    (8, "user-create", {"login": "u@example.com", "email": "u@example.com", "given_name": "Ünïcode", "family_name": "€"}),
    (9, "user-update", {"state": "DISABLED"}),
    (10, "session", {"login": "u@example.com", "password": "pw"}),
    (11, "policy-patch", {"state": "deleted"}),
]


def json_bodies():
    for index, name, body in BODIES:
        write("fuzz_json_body", name, bytes([index]) + compact(body).encode())
    write("fuzz_json_body", "empty-allowed", bytes([0x80 | 3]))
    write("fuzz_json_body", "whitespace", bytes([0]) + b" \r\n\t ")
    write("fuzz_json_body", "duplicate", bytes([4]) + b'{"name":"a","name":"b"}')
    write("fuzz_json_body", "escaped-nul", bytes([4]) + b'{"name":"a\\u0000b"}')
    write("fuzz_json_body", "unknown", bytes([4]) + b'{"name":"a","extra":1}')
    write("fuzz_json_body", "not-object", bytes([4]) + b'["name"]')
    write("fuzz_json_body", "deep", bytes([5]) + b'{"members":' + b"[" * 40 + b"]" * 40 + b"}")
    write("fuzz_json_body", "control-char", bytes([4]) + b'{"name":"a\\u0001"}')
    write("fuzz_json_body", "big-number", bytes([2]) + b'{"expires_at":1e400,"store_value":1}')


# ---------------------------------------------------------------- policies
def v1(subject, resources, roles, tags=None, description=None, kind="access"):
    body = {"type": kind, "subjects": [{"attributes": subject}], "roles": [{"role_id": r} for r in roles],
            "resources": [{"attributes": resources}]}
    if tags is not None:
        body["resources"][0]["tags"] = tags
    if description is not None:
        body["description"] = description
    return body


def v2(subject, resources, roles, tags=None, rule=None, pattern=None, description=None, kind="access"):
    body = {"type": kind, "subject": {"attributes": subject}, "resource": {"attributes": resources},
            "control": {"grant": {"roles": [{"role_id": r} for r in roles]}}}
    if tags is not None:
        body["resource"]["tags"] = tags
    if rule is not None:
        body["rule"] = rule
    if pattern is not None:
        body["pattern"] = pattern
    if description is not None:
        body["description"] = description
    return body


def a1(name, value, operator=None):
    attribute = {"name": name, "value": value}
    if operator:
        attribute["operator"] = operator
    return attribute


def a2(key, value, operator="stringEquals"):
    return {"key": key, "operator": operator, "value": value}


VIEWER = "crn:v1:bluemix:public:iam::::role:Viewer"
EDITOR = "crn:v1:bluemix:public:iam::::role:Editor"
READER = "crn:v1:bluemix:public:iam::::serviceRole:Reader"
OBJECT_READER = "crn:v1:bluemix:public:cloud-object-storage::::serviceRole:ObjectReader"
CUSTOM = "crn:v1:bluemix:public:cloud-object-storage::a/" + ACCOUNT + "::customRole:Auditor"
DATE_TIME = "{{environment.attributes.current_date_time}}"


def policies():
    p = {}
    p["v1-reference"] = {
        "id": "d0806031-8905-4832-a948-205aed4b4fd4", "type": "access", "description": "svc id can read COS instance",
        "subjects": [{"attributes": [{"name": "iam_id", "value": SID}]}],
        "roles": [{"role_id": VIEWER, "display_name": "Viewer", "description": "As a viewer"},
                  {"role_id": READER, "display_name": "Reader", "description": "As a reader"}],
        "resources": [{"attributes": [a1("accountId", ACCOUNT, "stringEquals"), a1("serviceName", COS, "stringEquals"),
                                      a1("serviceInstance", "a1b2c3", "stringEquals")],
                       "tags": [a1("project", "prototype", "stringEquals")]}],
        "href": "https://iam.cloud.ibm.com/v1/policies/d0806031-8905-4832-a948-205aed4b4fd4",
        "created_at": "2023-06-23T21:52:23.443Z", "created_by_id": "IBMid-550003M5ES",
        "last_modified_at": "2023-06-23T21:52:23.443Z", "last_modified_by_id": "IBMid-550003M5ES", "state": "active"}
    p["v1-minimal"] = v1([a1("iam_id", SID)], [a1("accountId", ACCOUNT), a1("serviceName", COS)], [READER])
    p["v1-match"] = v1([a1("iam_id", SID)], [a1("accountId", ACCOUNT), a1("serviceName", COS),
                                             a1("resource", "dev*-?x", "stringMatch")], [READER, VIEWER], description="d")
    p["v1-group"] = v1([a1("access_group_id", GROUP)], [a1("accountId", ACCOUNT), a1("serviceType", "service")],
                       [EDITOR, OBJECT_READER])
    p["v1-custom-role"] = v1([a1("iam_id", SID)], [a1("accountId", ACCOUNT), a1("serviceName", COS)], [CUSTOM])
    p["v1-authorization"] = v1([a1("accountId", ACCOUNT), a1("serviceName", COS), a1("serviceInstance", "src")],
                               [a1("accountId", ACCOUNT), a1("serviceName", "kms"), a1("serviceInstance", "dst")],
                               [READER], kind="authorization")
    p["v1-bad-operator"] = v1([a1("iam_id", SID)], [a1("accountId", ACCOUNT, "stringMatch")], [READER])
    p["v2-reference-once"] = v2(
        [a2("iam_id", "IBMid-550000HFVV")],
        [a2("accountId", ACCOUNT), a2("serviceType", "platform_service")], [EDITOR],
        tags=[a2("project", "prototype")], description="Editor on billing, one day only",
        pattern="time-based-conditions:once",
        rule={"operator": "and", "conditions": [
            a2(DATE_TIME, "2022-12-23T00:00:00+00:00", "dateTimeGreaterThanOrEquals"),
            a2(DATE_TIME, "2022-12-23T23:59:59+00:00", "dateTimeLessThanOrEquals")]})
    p["v2-weekly"] = v2(
        [a2("iam_id", SID)], [a2("accountId", ACCOUNT), a2("serviceName", COS)], [READER],
        pattern="time-based-conditions:weekly:custom-hours",
        rule={"operator": "and", "conditions": [
            {"key": "{{environment.attributes.day_of_week}}", "operator": "dayOfWeekAnyOf",
             "value": ["1+00:00", "2+00:00", "3+00:00", "4+00:00", "5+00:00"]},
            a2("{{environment.attributes.current_time}}", "09:00:00+00:00", "timeGreaterThanOrEquals"),
            a2("{{environment.attributes.current_time}}", "17:00:00+00:00", "timeLessThanOrEquals")]})
    p["v2-all-day"] = v2(
        [a2("iam_id", SID)], [a2("accountId", ACCOUNT), a2("serviceName", COS)], [READER],
        pattern="time-based-conditions:weekly:all-day",
        rule={"key": "{{environment.attributes.day_of_week}}", "operator": "dayOfWeekEquals", "value": "2"})
    p["v2-date"] = v2(
        [a2("iam_id", SID)], [a2("accountId", ACCOUNT), a2("serviceName", COS)], [READER],
        pattern="time-based-conditions:once",
        rule={"operator": "or", "conditions": [
            a2("{{environment.attributes.current_date}}", "2023-11-14", "dateGreaterThan"),
            a2("{{environment.attributes.current_date}}", "2030-01-01+05:00", "dateLessThan")]})
    p["v2-resource-rule"] = v2(
        [a2("iam_id", SID)], [a2("accountId", ACCOUNT), a2("serviceName", COS)], [READER],
        pattern="attribute-based-condition:resource:literal-and-wildcard",
        rule={"operator": "or", "conditions": [
            a2("{{resource.attributes.prefix}}", "folder1/subfolder1/*", "stringMatch"),
            a2("{{resource.attributes.delimiter}}", ["/", "-"], "stringEqualsAnyOf"),
            {"operator": "and", "conditions": [a2("{{resource.attributes.path}}", ["a*", "b?"], "stringMatchAnyOf"),
                                               a2("{{resource.attributes.prefix}}", True, "stringExists")]}]})
    p["v2-any-of"] = v2([a2("iam_id", SID)],
                        [a2("accountId", ACCOUNT), a2("serviceName", COS), a2("resourceType", "bucket"),
                         a2("resource", ["a", "b*"], "stringMatchAnyOf"), a2("region", ["us-south", "eu-de"],
                                                                              "stringEqualsAnyOf"),
                         a2("serviceInstance", True, "stringExists")], [READER, OBJECT_READER])
    p["v2-group-exists"] = v2([a2("access_group_id", GROUP)], [a2("accountId", ACCOUNT), a2("resourceGroupId", "*",
                                                                                             "stringMatch")], [VIEWER])
    p["v2-escaped-glob"] = v2([a2("iam_id", SID)], [a2("accountId", ACCOUNT), a2("serviceName", COS),
                                                    a2("resource", "a\\*b\\?c*", "stringMatch")], [READER])
    p["v2-bad-pattern"] = v2([a2("iam_id", SID)], [a2("accountId", ACCOUNT)], [READER], pattern="x",
                             rule={"key": DATE_TIME, "operator": "dateTimeGreaterThan", "value": "2022-12-23T00:00:00Z"})
    # stored rows the engine must survive even though the API would refuse them
    p["row-broken-condition"] = {"type": "access", "subject": {"attributes": [a2("iam_id", SID)]},
                                 "resource": {"attributes": [a2("accountId", ACCOUNT), {"key": "serviceName",
                                                                                        "value": COS}]},
                                 "control": {"grant": {"roles": [{"role_id": READER}, {"role_id": "crn:v1:x"}]}},
                                 "rule": {"operator": "and", "conditions": [
                                     {"operator": "or", "conditions": [{"operator": "and", "conditions": [
                                         a2(DATE_TIME, 5, "dateTimeLessThan")]}]}]}}
    p["row-any-of-eleven"] = v2([a2("iam_id", SID)], [a2("accountId", ACCOUNT),
                                                       a2("resource", [str(i) for i in range(11)],
                                                          "stringEqualsAnyOf")], [READER])
    for name, body in p.items():
        write("fuzz_policy", name, json.dumps(body, indent=1, ensure_ascii=False))


# ---------------------------------------------------------------- API requests (fuzz_api)
# first byte: the index in the route table of fuzz_api.c (keep both in the same order);
# $ACCOUNT, $SID, ... are replaced by fuzz_api.c with the ids of the objects it made at start.
COS_SUBJECT_V1 = [a1("iam_id", "$SID")]
COS_RESOURCE_V1 = [a1("accountId", "$ACCOUNT"), a1("serviceName", COS)]
COS_SUBJECT_V2 = [a2("iam_id", "$SID")]
COS_RESOURCE_V2 = [a2("accountId", "$ACCOUNT"), a2("serviceName", COS)]
AUTHZ_ONE = {"subject": {"attributes": {"id": "$SID", "scope": "ibm openid"}},
             "action": "cloud-object-storage.object.get",
             "resource": {"attributes": {"serviceName": COS, "accountId": "$ACCOUNT", "serviceInstance": "i1"}},
             "environment": {"attributes": {"networkType": "public"}}, "requestId": "r1"}
API = [
    (0, "token-apikey", "grant_type=urn%3Aibm%3Aparams%3Aoauth%3Agrant-type%3Aapikey&apikey=$APIKEY"),
    (0, "token-apikey-unknown", "grant_type=urn%3Aibm%3Aparams%3Aoauth%3Agrant-type%3Aapikey&apikey=iamd_0000"),
    (0, "token-refresh", "grant_type=refresh_token&refresh_token=x.y.z"),
    (1, "serviceid-create", {"account_id": "$ACCOUNT", "name": "app-2", "description": "d",
                             "unique_instance_crns": ["crn:v1:bluemix:public:cloud-object-storage:global:a/$ACCOUNT:i1::"]}),
    (1, "serviceid-create-with-key", {"account_id": "$ACCOUNT", "name": "app-3",
                                      "apikey": {"name": "k", "description": "d", "store_value": True}}),
    (2, "serviceid-update", {"name": "renamed", "description": "new", "unique_instance_crns": []}),
    (3, "apikey-create", {"name": "k2", "iam_id": "$SID", "description": "d", "expires_at": "2049-01-02T18:30+0000",
                          "store_value": False, "action_when_leaked": "disable"}),
    (3, "apikey-create-user", {"name": "mine", "iam_id": "$ADMIN", "account_id": "$ACCOUNT"}),
    (4, "apikey-update", {"name": "k3", "description": "", "expires_at": "2049-01-02T18:30:00Z",
                          "action_when_leaked": "none"}),
    (4, "apikey-update-sessions", {"support_sessions": True, "expires_at": ""}),
    (5, "policy-v1", v1([a1("iam_id", "$SID")], COS_RESOURCE_V1 + [a1("resource", "dev*", "stringMatch")],
                        [READER, VIEWER], description="d")),
    (5, "policy-v1-group", v1([a1("access_group_id", "$GROUP")], [a1("accountId", "$ACCOUNT"),
                                                                   a1("serviceType", "service")], [EDITOR])),
    (5, "policy-v1-custom-role", v1(COS_SUBJECT_V1, COS_RESOURCE_V1 + [a1("resourceType", "bucket")],
                                    ["$ROLECRN"])),
    (5, "policy-v1-authorization", v1([a1("accountId", "$ACCOUNT"), a1("serviceName", COS)],
                                      [a1("accountId", "$ACCOUNT"), a1("serviceName", "fuzz-service")], [READER],
                                      kind="authorization")),
    (6, "policy-v1-replace", v1(COS_SUBJECT_V1, COS_RESOURCE_V1, [READER, OBJECT_READER])),
    (7, "policy-patch", {"state": "active"}),
    (8, "policy-v2-rule", v2(COS_SUBJECT_V2, COS_RESOURCE_V2, [READER], pattern="time-based-conditions:once",
                             rule={"operator": "and", "conditions": [
                                 a2(DATE_TIME, "2022-12-23T00:00:00+00:00", "dateTimeGreaterThanOrEquals"),
                                 a2(DATE_TIME, "2049-12-23T23:59:59+00:00", "dateTimeLessThanOrEquals")]})),
    (8, "policy-v2-any-of", v2(COS_SUBJECT_V2, COS_RESOURCE_V2 + [a2("resource", ["a", "b*"], "stringMatchAnyOf"),
                                                                  a2("region", ["us-south", "eu-de"], "stringEqualsAnyOf"),
                                                                  a2("serviceInstance", True, "stringExists")],
                               [READER])),
    (8, "policy-v2-tags", v2(COS_SUBJECT_V2, [a2("accountId", "$ACCOUNT"), a2("serviceType", "service")], [READER],
                             tags=[a2("env", "prod"), a2("team", "a*", "stringMatch")])),
    (8, "policy-v2-resource-rule", v2(COS_SUBJECT_V2, COS_RESOURCE_V2, [READER],
                                      pattern="attribute-based-condition:resource:literal-and-wildcard",
                                      rule={"operator": "or", "conditions": [
                                          a2("{{resource.attributes.prefix}}", "folder1/*", "stringMatch"),
                                          a2("{{resource.attributes.path}}", ["a", "b"], "stringEqualsAnyOf")]})),
    (9, "policy-v2-replace", v2(COS_SUBJECT_V2, COS_RESOURCE_V2, [READER])),
    (10, "authz", [AUTHZ_ONE, dict(AUTHZ_ONE, resource={"crn": "crn:v1:bluemix:public:cloud-object-storage:global:a/$ACCOUNT:i1::"})]),
    (11, "authz-bulk", {"subject": {"attributes": {"id": "$SID", "scope": "ibm openid"}},
                        "action": "cloud-object-storage.object.get",
                        "resources": {"sharedAttributes": {"serviceName": COS, "accountId": "$ACCOUNT"},
                                      "uniqueAttributes": [{"serviceInstance": "c1"}, {"serviceInstance": "c2"}]},
                        "environment": {"attributes": {}}}),
    (12, "authz-roles", [{"subject": {"attributes": {"id": "$SID", "scope": "ibm openid"}},
                          "resource": {"attributes": {"serviceName": COS, "accountId": "$ACCOUNT"}},
                          "environment": {}, "requestId": "abc123"}]),
    (13, "authz-explain", {"subject": {"attributes": {"id": "$SID"}}, "action": "cloud-object-storage.object.put",
                           "resource": {"attributes": {"accountId": "$ACCOUNT", "serviceName": COS}}}),
    (14, "group-create", {"name": "developers", "description": "Group for developers"}),
    (15, "group-update", {"name": "renamed", "description": ""}),
    (16, "group-add-members", {"members": [{"iam_id": "$USER", "type": "user"}, {"iam_id": "$SID", "type": "service"}]}),
    (17, "group-remove-members", {"members": ["$USER", "$SID", "IBMid-NOTAMEMBER"]}),
    (18, "all-groups", {"type": "user", "groups": ["$GROUP"]}),
    (19, "role-create", {"name": "Reviewer", "display_name": "Reviewer", "description": "d", "account_id": "$ACCOUNT",
                         "service_name": COS, "actions": ["cloud-object-storage.object.get"]}),
    (20, "role-replace", {"display_name": "Auditor", "actions": ["cloud-object-storage.object.get",
                                                                 "cloud-object-storage.object.put"]}),
    (21, "service-definition", {"name": "fuzz-service", "display_name": "Fuzz", "service_type": "service",
                                "service_group_id": None, "pdp_clients": ["$SID"],
                                "actions": [{"id": "fuzz-service.thing.read", "display_name": "Read"},
                                            "fuzz-service.thing.write"],
                                "roles": {"Reader": ["fuzz-service.thing.read"],
                                          "Special": {"display_name": "Special", "description": "d",
                                                      "actions": ["fuzz-service.thing.write"]}},
                                "resource_types": ["thing"]}),
    (22, "identity-settings-restricted", {"restrict_create_service_id": "RESTRICTED"}),
    (22, "identity-settings", {"restrict_create_service_id": "NOT_RESTRICTED", "restrict_create_platform_apikey": "NOT_SET",
                               "allowed_ip_addresses": "17.5.7.8, 17.5.7.8 - 17.5.9.5, 17.5.0.0/16", "mfa": "NONE",
                               "session_expiration_in_seconds": "86400", "session_invalidation_in_seconds": "7200",
                               "max_sessions_per_identity": "NOT_SET",
                               "system_access_token_expiration_in_seconds": "3600",
                               "system_refresh_token_expiration_in_seconds": "259200"}),
    (23, "access-settings", {"external_account_identity_interaction": {"identity_types": {
        "user": {"state": "enabled", "external_allowed_accounts": []},
        "service_id": {"state": "monitor", "external_allowed_accounts": ["$ACCOUNT"]},
        "service": {"state": "limited", "external_allowed_accounts": []}}}}),
    (24, "user-create", {"login": "new@fuzz.test", "email": "new@fuzz.test", "given_name": "N", "family_name": "U"}),
    (25, "user-update", {"email": "changed@fuzz.test", "given_name": "G", "state": "DISABLED"}),
    (26, "introspect", "token=eyJhbGciOiJSUzI1NiJ9.e30.c2ln"),
    (10, "authz-crn-roles", [{"subject": {"attributes": {"id": "$ADMIN"}}, "action": "iam-identity.serviceid.get",
                              "resource": {"attributes": {"serviceName": "iam-identity", "accountId": "$ACCOUNT",
                                                          "resourceType": "serviceid", "resource": "$SIDID"}}}]),
]

# list and read routes (27..37): the input is the query string
API_QUERIES = [
    (27, "list-serviceids", 'pagesize=1&sort=name&order=desc&include_history=true&filter=name co "fuzz"&show_group_id=true'),
    (27, "list-serviceids-pagetoken", "pagesize=100&pagetoken=MTAw"),
    (28, "get-serviceid", "include_history=true&include_activity=false&show_group_id=true"),
    (29, "list-apikeys", 'scope=account&type=serviceid&filter=name eq "fuzz-key"&sort=created_at&order=asc&pagesize=2'),
    (29, "list-apikeys-user", "iam_id=$ADMIN&include_history=false"),
    (30, "get-apikey", "include_history=true&include_activity=true"),
    (31, "list-policies-v1", "iam_id=$SID&type=access&service_type=service&sort=-last_modified_at&format=include_last_permit&state=active&limit=1"),
    (32, "list-policies-v2", "access_group_id=$GROUP&service_name=cloud-object-storage&tag_name=env&tag_value=prod&format=display&start=50&limit=100"),
    (33, "list-groups", "iam_id=$USER&search=fuzz&sort=-name&membership_type=static&hide_public_access=true&limit=10&offset=0"),
    (34, "list-members", "type=user&verbose=true&sort=iam_id&membership_type=static&limit=5"),
    (35, "list-roles", "service_name=cloud-object-storage&source_service_name=x&policy_type=access&service_group_id=IAM"),
    (36, "list-users", "pagesize=1&pagetoken=abc%00"),
    (37, "identity-settings-history", "include_history=true"),
]

# path-parameter routes (38..49): the input is one path segment
API_PATHS = [
    (38, "path-serviceid", "$SIDID"), (38, "path-serviceid-latin1", "ServiceId-%E9t%E9"),
    (39, "path-apikey", "$KEYID"), (40, "path-policy", "$PID"), (40, "path-policy-dots", ".."),
    (41, "path-group", "$GROUP"), (42, "path-member", "$USER"), (42, "path-member-bytes", "%FF%FE"),
    (43, "path-remove-member", "IBMid-NOTAMEMBER"), (44, "path-allgroups-add", "$SID"),
    (45, "path-allgroups-remove", "IBMid-\u00e9"), (46, "path-role", "$ROLE"), (46, "path-role-slash", "a%2Fb"),
    (47, "path-service", "cloud-object-storage"), (48, "path-account", "$ACCOUNT"), (49, "path-user", "$USER"),
]


def api():
    for index, name, body in API:
        text = body if isinstance(body, str) else compact(body)
        write("fuzz_api", name, bytes([index]) + text.encode())
    for index, name, query in API_QUERIES + API_PATHS:
        write("fuzz_api", name, bytes([index]) + query.encode())
    write("fuzz_api", "bad-json", bytes([1]) + b'{"account_id":"$ACCOUNT",')
    write("fuzz_api", "empty-body", bytes([14]))
    # more query arguments than libmicrohttpd's pool can index: once a hang, now a prompt 414
    write("fuzz_api", "many-query-arguments", bytes([27]) + b"&" * 300)
    write("fuzz_api", "many-query-arguments-pairs", bytes([29]) + b"a=1&" * 200)


# ---------------------------------------------------------------- filters, CRNs, times
FILTERS = ['name eq "billing-app"', 'name co "bill"', 'NAME CO "x"', '  name\teq\t"a \\"quoted\\" \\\\ name"  ',
           'name eq ""', 'name eq "\u00e9t\u00e9 \u20ac"', 'name eq "unterminated', 'name eq "a" and x',
           'name ne "a"', 'description eq "a"', 'name eq "bad \\n escape"', 'name co "' + "x" * 255 + '"']
CRNS = ["crn:v1:bluemix:public:iam-identity::a/" + ACCOUNT + "::serviceid:ServiceId-11111111-1111-4111-8111-111111111111",
        "crn:v1:bluemix:public:cloud-object-storage:global:a/" + ACCOUNT + ":1a2b3c::",
        "crn:v1:bluemix:public:iam::::role:Viewer",
        "crn:v1:bluemix:public:iam::::serviceRole:Reader",
        "crn:v1:bluemix:public:cloud-object-storage::a/" + ACCOUNT + "::customRole:Auditor",
        "crn:v1:ibmcloud:private:kms:us-south:o/org::key:with:colons:in:it",
        "crn:v1::public:s:l:a/x:i:t:r", "crn:v2:bluemix:public:x:::::", "crn:v1:a:b:c"]
TIMES = ["2049-01-02T18:30+0000", "2022-12-23T23:59:59+00:00", "2022-12-23T00:00:00Z", "2024-02-29T12:00:00.123456z",
         "1970-01-01T00:00Z", "1970-01-01T00:00+0100", "9999-12-31T23:59:59-2359", "2023-02-29T00:00Z",
         "2016-12-31T23:59:60Z", "2023-06-23T21:52:23.443Z", "2023-06-23t21:52-05:30", "2023-06-23T21:52"]


def small():
    for index, text in enumerate(FORMS.items()):
        write("fuzz_form", text[0], text[1])
    for index, text in enumerate(FILTERS):
        write("fuzz_filter", "filter-%02d" % index, text)
    for index, text in enumerate(CRNS):
        write("fuzz_crn", "crn-%02d" % index, text)
    for index, text in enumerate(TIMES):
        write("fuzz_time", "time-%02d" % index, text)


if __name__ == "__main__":
    small()
    keyformat()
    json_bodies()
    policies()
    api()
    tokens()
