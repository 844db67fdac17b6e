"""Redaction of secrets from params, tags, command lines and error text.

mloop never stores a secret it can recognise. Two kinds of rules decide,
the first by the *name* a value is stored under, the second by the *value*.

**Key rules** (:func:`looks_secret`). A key is split into lower-cased words
at every character that is not a letter or digit and at camelCase humps
(``OPENAI_API_KEY``, ``openaiApiKey`` and ``openai.api-key`` are all
``openai api key``); the whole value is replaced by ``***REDACTED***`` when:

1. a word is a secret word: ``password(s)``, ``passwd``, ``passphrase``,
   ``passcode``, ``pwd``, ``secret(s)``, ``credential(s)``, ``creds``,
   ``auth``, ``authorization``, ``authtoken``, ``bearer``, ``cookie(s)``,
   ``dsn``, ``jwt``, ``sas``, ``webhook``, ``apikey``, ``apitoken``,
   ``accesskey``, ``secretkey``, ``privatekey``, ``connstr``,
   ``connectionstring``, ``pgpass``, ``dbpass``; or a word glued onto one
   of the strong ones: a word that *ends* in ``password(s)``, ``passwd``,
   ``passphrase``, ``passcode``, ``pwd``, ``secret(s)``, ``apikey``,
   ``apitoken``, ``authtoken``, ``accesskey``, ``secretkey`` or
   ``privatekey`` (``PGPASSWORD``, ``dbpassword``, ``sslpassword``,
   ``clientsecret``, ``openaiapikey``; ``OLDPWD``, a folder, is kept), or in
   ``token`` after a prefix that is not a field word (rule 3) nor one letter
   (``accesstoken``, ``githubtoken``, ``slacktoken`` are redacted;
   ``padtoken``, ``maxtoken`` kept);
2. two adjacent words name a secret: ``api key``, ``api token``, ``access
   key``, ``access token``, ``secret key``, ``private key``, ``signing key``,
   ``encryption key``, ``master key``, ``license key``, ``refresh token``,
   ``id token``, ``session token``, ``security token``, ``database url/uri``,
   ``db url/uri``, ``connection string/str``, ``conn string/str``,
   ``sqlalchemy url``, ``broker url``, ``redis url``, ``mongo url/uri``,
   ``mongodb uri``, ``postgres url/uri``, ``mysql url``, ``amqp url``;

   rules 1 and 2 do not fire when the next word says the value describes
   the secret rather than holds it: ``password_min_length``, ``auth_type``,
   ``secret_name``, ``jwt_algorithm``, ``private_key_path`` are kept (those
   words: ``min``, ``max``, ``length``, ``len``, ``size``, ``count``,
   ``limit``, ``type(s)``, ``name(s)``, ``enabled``, ``disabled``,
   ``required``, ``mode``, ``method``, ``algorithm``, ``alg``, ``policy``,
   ``rules``, ``strength``, ``file``, ``path``, ``dir``, ``env``, ``var``,
   ``expiry``, ``expires``, ``expiration``, ``ttl``, ``version``,
   ``provider``, ``header``, ``scheme``);
3. the *last* word is ``key``, ``token``, ``pass`` or ``pw``, unless the
   word before it names a field rather than a service, or is one letter:
   ``openai_key``, ``stripe_key``, ``hf_token``, ``db_pass``, ``smtp_pw``
   and ``key`` alone are redacted; ``sort_key``, ``label_key``, ``rng_key``,
   ``s3_key``, ``public_key``, ``x_key``, ``pad_token``, ``eos_token``,
   ``max_token``, ``first_pass``, ``num_pass`` are kept (the full list of
   field words is ``_FIELD_WORDS`` below);
4. the last word is ``pat`` alone or after ``gh``, ``github``, ``gitlab``,
   ``gl``, ``ado``, ``azure``, ``devops``, ``hf``, ``personal``, ``access``
   or ``api`` (``gh_pat`` is redacted, ``glob_pat`` kept).

Words that merely contain these letters are not words of the key:
``monkey``, ``keyboard``, ``tokenizer``, ``max_tokens``, ``author``,
``passes``, ``bypass``, ``pwr``, ``sass``, ``pass_rate``, ``num_tokens``
and ``maxtokens`` are kept (``tokens`` is a count, never a secret).

**Value rules** (:func:`redact_text`), applied to every param and tag value
whose key is not secret, to the stored command line, and to stored error
text:

- a URL's password (``scheme://user:PASSWORD@host``) and secret query values
  (``?password=``, ``&token=``, ``&sig=`` …) become ``***``; the user and
  host stay (:func:`mloop.masking.mask_text`);
- well-known token shapes become ``***REDACTED***``: GitHub (``ghp_``,
  ``gho_``, ``ghu_``, ``ghs_``, ``ghr_``, ``github_pat_``), GitLab
  (``glpat-``), OpenAI and Anthropic (``sk-`` + 32 letters or digits,
  ``sk-proj-``, ``sk-ant-`` …), Stripe (``sk_live_``, ``rk_live_``,
  ``sk_test_``, ``whsec_``), AWS access key ids (``AKIA``/``ASIA`` + 16),
  Slack (``xoxb-``, ``xoxp-``, ``xoxa-``, ``xoxr-``, ``xoxs-``, webhook
  paths under ``hooks.slack.com/services/``), JSON Web Tokens
  (``eyJ….eyJ….…``), Google API keys (``AIza`` + 35), Hugging Face
  (``hf_`` + 30), npm (``npm_``), PyPI (``pypi-AgEI…``), SendGrid
  (``SG.….…``), ``Bearer …`` credentials, PEM private key blocks
  (``-----BEGIN … PRIVATE KEY-----`` to its end), and Azure connection
  string parts (``AccountKey=``, ``SharedAccessKey=``,
  ``SharedAccessSignature=``);
- assignments whose name passes the key rules: ``password=hunter2``,
  ``AWS_SECRET_ACCESS_KEY=…``, ``"token": "…"``, ``api_key: …``,
  ``--db-url VALUE`` and ``--password=X`` keep the name and lose the value.

Short options (``-p X``) are not interpreted: ``-p`` is as often a port as a
password. A value the rules do not recognise (a random string under an
ordinary key) is stored as given: name secrets so the key rules see them.

Example:
    >>> redact("db_password", "hunter2")
    '***REDACTED***'
    >>> redact("learning_rate", "0.1")
    '0.1'
    >>> redact("db", "postgresql://app:hunter2@db/prod")
    'postgresql://app:***@db/prod'
"""

from __future__ import annotations

import re
from functools import lru_cache

from mloop.masking import mask_text

REDACTED = "***REDACTED***"


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_SECRET_WORDS = _words(
    """
    password passwords passwd passphrase passcode pwd secret secrets credential
    credentials creds apikey apitoken auth authorization authtoken bearer cookie cookies
    dsn jwt sas webhook privatekey accesskey secretkey connstr connectionstring pgpass dbpass
    """
)
# Endings that make a glued word (PGPASSWORD, clientsecret) a secret word.
_SECRET_ENDINGS = (
    *("password", "passwords", "passwd", "passphrase", "passcode", "pwd", "secret", "secrets"),
    *("apikey", "apitoken", "authtoken", "accesskey", "secretkey", "privatekey"),
)
_NOT_SECRET = frozenset({"oldpwd"})  # the shell's previous working directory
# A word after a secret word that says the value describes the secret, not holds it.
_DESCRIBING = _words(
    """
    min max length len size count limit type types name names enabled disabled required
    mode method algorithm alg policy rules strength file path dir env var expiry expires
    expiration ttl version provider header scheme
    """
)
_SECRET_PAIRS = frozenset(
    {
        ("api", "key"),
        ("api", "token"),
        ("access", "key"),
        ("access", "token"),
        ("secret", "key"),
        ("private", "key"),
        ("signing", "key"),
        ("encryption", "key"),
        ("master", "key"),
        ("license", "key"),
        ("licence", "key"),
        ("refresh", "token"),
        ("id", "token"),
        ("session", "token"),
        ("security", "token"),
        ("database", "url"),
        ("database", "uri"),
        ("db", "url"),
        ("db", "uri"),
        ("connection", "string"),
        ("connection", "str"),
        ("conn", "string"),
        ("conn", "str"),
        ("sqlalchemy", "url"),
        ("broker", "url"),
        ("redis", "url"),
        ("mongo", "uri"),
        ("mongo", "url"),
        ("mongodb", "uri"),
        ("postgres", "url"),
        ("postgres", "uri"),
        ("mysql", "url"),
        ("amqp", "url"),
    }
)
# Last words that are secrets unless the word before names a field (or, for
# ``pat``, unless it does not name a service that issues personal access tokens).
_FIELD_WORDS = _words(
    """
    sort primary foreign partition row join dict hash group label labels target input
    output feature text image audio video id metric monitor lookup index map data
    dataset random rng prng seed model column col split batch obs layer s3 object blob
    file bucket path record event message msg state config name value tag param run
    cache shard sample class category field attr attribute unique composite order item
    context prompt query public music hot pad bos eos unk sep cls mask special start end
    stop new vocab min max num n total per first second third last next single one two
    multi forward backward full fast final each glob match regex re include exclude
    search piecewise attention groupby kv qkv sub pre
    """
)
_WEAK_WORDS = frozenset({"key", "token", "pass", "pw"})
_PAT_ISSUERS = frozenset(
    {"gh", "github", "gitlab", "gl", "ado", "azure", "devops", "hf", "personal", "access", "api"}
)
_WORD = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")


@lru_cache(maxsize=8192)
def looks_secret(key: str) -> bool:
    """True when ``key`` names something that should not be stored in clear.

    The rules are listed in this module's docstring.

    Example:
        >>> [looks_secret(k) for k in ("apiKey", "openai_key", "monkey", "sort_key", "key")]
        [True, True, False, False, True]
    """
    words = [w.lower() for w in _WORD.findall(key)]
    if not words:
        return False
    for i, word in enumerate(words):
        following = words[i + 1] if i + 1 < len(words) else ""
        if _is_secret_word(word) and following not in _DESCRIBING:
            return True
        if following and (word, following) in _SECRET_PAIRS:
            after = words[i + 2] if i + 2 < len(words) else ""
            if after not in _DESCRIBING:
                return True
    last = words[-1]
    before = words[-2] if len(words) > 1 else ""
    if last == "pat":
        return not before or before in _PAT_ISSUERS
    # A one-letter qualifier (x_key, y_key) names an axis or a field, not a service.
    return last in _WEAK_WORDS and before not in _FIELD_WORDS and len(before) != 1


def _is_secret_word(word: str) -> bool:
    if word in _SECRET_WORDS:
        return True
    if word.endswith(_SECRET_ENDINGS):
        return word not in _NOT_SECRET
    if word.endswith("token") and len(word) > len("token") + 1:
        return word[: -len("token")] not in _FIELD_WORDS  # githubtoken, not padtoken
    return False


# Each shape starts with one of the letters of the lookahead, which lets the
# scan skip every other position at once.
_TOKENS = re.compile(
    r"(?=[gsrwAxehnpSbB])"
    r"(?:(?P<keep>hooks\.slack\.com/services/)[A-Za-z0-9/]+"
    r"|(?P<bearer>\b[Bb]earer[ \t]+)[A-Za-z0-9._~+/\-]{8,}=*"
    r"|\b(?:gh[pousr]_[A-Za-z0-9]{30,255}|github_pat_[A-Za-z0-9_]{22,255}"
    r"|glpat-[A-Za-z0-9_\-]{20,}"
    r"|sk-[A-Za-z0-9]{32,}|sk-(?:proj|svcacct|admin|ant|live)-[A-Za-z0-9_\-]{20,}"
    r"|[sr]k_(?:live|test)_[A-Za-z0-9]{16,}|whsec_[A-Za-z0-9]{24,}"
    r"|(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}"
    r"|xox[abeoprs]-[A-Za-z0-9\-]{10,}"
    r"|eyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]*"
    r"|AIza[0-9A-Za-z_\-]{35}"
    r"|hf_[A-Za-z0-9]{30,}|npm_[A-Za-z0-9]{36}|pypi-AgEI[A-Za-z0-9_\-]{40,}"
    r"|SG\.[A-Za-z0-9_\-]{20,}\.[A-Za-z0-9_\-]{20,}))"
)
_PEM = re.compile(
    r"-----BEGIN ([A-Z0-9]+ )*PRIVATE KEY( BLOCK)?-----.*?"
    r"(?:-----END ([A-Z0-9]+ )*PRIVATE KEY( BLOCK)?-----|\Z)",
    re.DOTALL,
)
_AZURE = re.compile(
    r"(?P<head>\b(?:AccountKey|SharedAccessKey|SharedAccessSignature)=)(?P<value>[^;\s'\"]+)",
    re.IGNORECASE,
)
# name=value, name: value, "name": "value", --name value, --name=value. A name
# starts where no name character precedes it, so each word is tried once.
_ASSIGNMENT = re.compile(
    r"(?<![A-Za-z0-9_.\-\"'])(?P<head>(?P<dashes>--)?(?P<quote>[\"']?)(?P<name>[A-Za-z_][A-Za-z0-9_.\-]*)(?P=quote)"
    r"(?:[ \t]*[=:][ \t]*|(?(dashes)[\"']?,?[ \t]+[\"']?|(?!))))"
    r"(?P<value>(?i:bearer|basic|token|digest)[ \t]+[^\s,;'\"]+"
    r"|\"[^\"\n]*\"|'[^'\n]*'|(?!-)[^\s,;&'\"}\])]+)"
)
_CANDIDATE = re.compile(r"[=:]|://|--|-----BEGIN|[A-Za-z0-9_\-.]{15}|(?i:bearer )")


def _assignment(match: re.Match[str]) -> str:
    if not looks_secret(match.group("name")):
        return match.group(0)
    value = match.group("value")
    quote = value[0] if value[:1] in ("'", '"') else ""
    return f"{match.group('head')}{quote}{REDACTED}{quote}"


def _azure(match: re.Match[str]) -> str:
    return match.group("head") + REDACTED


def _token(match: re.Match[str]) -> str:
    return (match.group("keep") or match.group("bearer") or "") + REDACTED


def redact_text(text: str) -> str:
    """``text`` with every secret the value rules recognise hidden.

    Meant for free text: a command line, an exception message, a traceback,
    a param or tag value. Linear in the length of ``text``; text with none of
    the markers the rules look for (``=``, ``:``, ``--``, a run of 15 token
    characters) is returned at once.

    Example:
        >>> redact_text("--db-url postgresql://u:SECRET@h/db --lr 0.1 token=abc")
        '--db-url ***REDACTED*** --lr 0.1 token=***REDACTED***'
        >>> redact_text("connect failed for postgresql://u:SECRET@h/db")
        'connect failed for postgresql://u:***@h/db'
    """
    if not _CANDIDATE.search(text):
        return text
    if "-----BEGIN" in text:
        text = _PEM.sub(REDACTED, text)
    text = _ASSIGNMENT.sub(_assignment, text)
    text = mask_text(text)
    text = _TOKENS.sub(_token, text)
    lowered = text.lower()
    if "accountkey=" in lowered or "sharedaccess" in lowered:
        text = _AZURE.sub(_azure, text)
    return text


@lru_cache(maxsize=4096)
def _redact_value(value: str) -> str:
    return redact_text(value)


def redact(key: str, value: str) -> str:
    """The value to store for ``key``: ``***REDACTED***`` when the key looks secret.

    Otherwise the value rules hide what the value itself gives away (a URL's
    password, a token of a well-known shape, ``password=…`` inside it).

    Example:
        >>> redact("openai_key", "anything")
        '***REDACTED***'
        >>> redact("note", "uses ghp_" + "a" * 36)
        'uses ***REDACTED***'
    """
    if looks_secret(key):
        return REDACTED
    if len(value) > 512:
        return redact_text(value)
    return _redact_value(value)
