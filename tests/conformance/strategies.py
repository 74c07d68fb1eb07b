"""Hypothesis strategies for TTS templates and TtsParam values, aimed at the edges of the provider's rules (§1.6, §3.1).

Each "clean" strategy builds, by construction, something the reference says the provider accepts; each "defect"
strategy builds something the reference says it refuses. The expectations are written here from the reference,
independently of `notifications.aliyun.spec`, so a wrong pattern there makes the conformance tests fail.
"""
import itertools
import string

from hypothesis import strategies as st

# Plain maps and sampled lists rather than regexes and filters: generation, not checking, is what costs time here.

RESERVED = ("email", "mobile", "id", "nick", "site")
CODE_WORDS = ("验证码", "注册码", "校验码", "动态码")
# Symbols the template rules forbid outside ${...} (both language versions of the list).
SYMBOLS = "#/:-%¥【】[]$"

_CJK = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5)
_CHINESE_PUNCTUATION = "，。！？、；（）“”"
_ALNUM = string.ascii_letters + string.digits


def _no_http(text: str) -> str:
    """Break any accidental "http" so a clean value stays clean (the rules refuse the string itself)."""
    return text.replace("http", "htp").replace("HTTP", "HTP").replace("Http", "Htp") if "http" in text.lower() else text


def _with_cjk(first: str, rest: str) -> str:
    return first + rest


# Words that can be read out: Chinese characters, digits, Chinese punctuation and spaces — no dots, colons or letters,
# so nothing in them can read as a link, an IP address or a forbidden symbol. Always at least one Chinese character.
chinese_words = st.builds(_with_cjk, _CJK, st.text(alphabet=st.one_of(_CJK, st.sampled_from(string.digits + _CHINESE_PUNCTUATION + " ")),
                                                   max_size=11))
# Words with no digits, to wrap an injected link or IP address: a digit next to `1.2.3.4` would change what it is.
plain_words = st.builds(_with_cjk, _CJK, st.text(alphabet=st.one_of(_CJK, st.sampled_from(_CHINESE_PUNCTUATION)), max_size=7))
# What separates two variables in a clean template: at least one Chinese character (not only punctuation or spaces).
separators = chinese_words

# Values a callee can hear that are no link: Chinese text, times of day, prices, version numbers with one or two dots.
_times = st.builds(lambda h, m: f"{h}:{m:02d}", st.integers(0, 23), st.integers(0, 59))
_decimals = st.builds(lambda a, b: f"{a}.{b}", st.integers(0, 9999), st.integers(0, 99))
_versions = st.builds(lambda a, b, c: f"{a}.{b}.{c}", st.integers(0, 255), st.integers(0, 255), st.integers(0, 255))
_letters_and_digits = st.text(alphabet=_ALNUM, min_size=1, max_size=10).map(_no_http)
clean_values = st.one_of(
    chinese_words,
    st.builds(lambda a, b: f"{a}{b}", chinese_words, _times),
    st.builds(lambda a, b: f"{a}{b}元", chinese_words, _decimals),
    st.builds(lambda a, b: f"{a}版本{b}", chinese_words, _versions),
    _letters_and_digits,
)
verification_codes = st.text(alphabet=_ALNUM, min_size=1, max_size=8).map(_no_http)


def _valid_name(first: str, rest: str) -> str:
    name = _no_http(first + rest)
    return "v" + name if name.lower() in RESERVED else name


# Variable names.
valid_names = st.builds(_valid_name, st.sampled_from(string.ascii_letters), st.text(alphabet=_ALNUM + "_", max_size=11))
reserved_names = st.sampled_from(sorted({
    "".join(chars) for name in RESERVED for chars in itertools.product(*[(ch, ch.upper()) for ch in name])
}))
invalid_names = st.one_of(
    st.builds(_with_cjk, st.sampled_from(string.digits), st.text(alphabet=_ALNUM + "_", max_size=5)),  # starts with a digit
    st.builds(lambda a, sep, b: a + sep + b, st.text(alphabet=string.ascii_letters, min_size=1, max_size=4), st.sampled_from("- ."),
              st.text(alphabet=_ALNUM, min_size=1, max_size=3)),  # a dash, space or dot inside
    st.just(""),
    st.text(alphabet=_CJK, min_size=1, max_size=3),  # Chinese names
)

# Links in every shape the reference means: with and without scheme, bare domains, Chinese domains.
_labels = st.one_of(
    st.text(alphabet=_ALNUM, min_size=1, max_size=9),
    st.builds(lambda a, b, c: a + "-" + b + c, st.sampled_from(_ALNUM), st.text(alphabet=_ALNUM + "-", max_size=6),
              st.sampled_from(_ALNUM)),
)
_tlds = st.sampled_from(["com", "cn", "net", "org", "COM", "Cn", "io", "top", "xyz", "com.cn", "gov.cn", "cc", "vip"])
bare_domains = st.builds(lambda labels, tld: ".".join([*labels, tld]), st.lists(_labels, min_size=1, max_size=3), _tlds)
_paths = st.sampled_from(["", "/", "/a", "/s?id=1", "/活动"])
# Bare domains first: a scheme or `www.` is easy to spot, `example.cn` is what slipped through before.
links = st.one_of(
    bare_domains,
    st.sampled_from(["example.cn", "www.example.com", "t.cn", "12306.cn", "例子.中国", "http", "HTTPS"]),
    st.builds(lambda scheme, host, path: f"{scheme}://{host}{path}", st.sampled_from(["http", "https", "HTTP", "Https"]),
              bare_domains, _paths),
    st.builds(lambda host, path: f"www.{host}{path}", st.one_of(bare_domains, _labels), _paths),
)
ipv4 = st.builds(lambda *parts: ".".join(map(str, parts)), *[st.integers(0, 255)] * 4)
ip_addresses = st.one_of(ipv4, st.ip_addresses(v=6).map(str), st.just("1.2.3.4"))


@st.composite
def clean_templates(draw, *, kind: str, mode: str):
    """A template every rule accepts: words around unique, well-named variables, never two side by side."""
    if kind == "verification":
        names = [draw(valid_names)]
    else:
        limit = 2 if mode == "public" else 5
        names = draw(st.lists(valid_names, min_size=0, max_size=limit, unique_by=str.lower))
    parts = [draw(st.one_of(st.just(""), chinese_words))]
    for name in names:
        parts += ["${" + name + "}", draw(separators)]
    if kind == "verification":
        parts.insert(0, draw(st.sampled_from(CODE_WORDS)))
    content = "".join(parts)
    if not content:
        content = draw(chinese_words)
    # Lengths up to the limit itself: pad with Chinese text.
    pad_to = draw(st.one_of(st.none(), st.integers(len(content), 1000)))
    if pad_to:
        content += "好" * (pad_to - len(content))
    return content


@st.composite
def broken_templates(draw, *, kind: str, mode: str):
    """(content, what is wrong): a clean template with one defect the reference names."""
    base = draw(clean_templates(kind=kind, mode=mode))
    defect = draw(st.sampled_from([
        "link", "ip", "symbol", "adjacent", "reserved", "invalid_name", "repeated", "only_variables", "too_long", "empty",
        *(["too_many_public"] if mode == "public" and kind == "notification" else []),
        *(["no_keyword", "two_variables"] if kind == "verification" else []),
    ]))
    words = draw(plain_words)
    if defect == "link":
        insert = f"{words}{draw(links)}{draw(plain_words)}"
    elif defect == "ip":
        insert = f"{words}{draw(ip_addresses)}{draw(plain_words)}"
    elif defect == "symbol":
        insert = f"{words}{draw(st.sampled_from(SYMBOLS))}{draw(chinese_words)}"
    elif defect == "adjacent":
        filler = draw(st.sampled_from(["", ",", "，", " ", "、", "。", " ， "]))
        insert = "${" + draw(valid_names) + "}" + filler + "${" + draw(valid_names) + "}"
    elif defect == "reserved":
        insert = words + "${" + draw(reserved_names) + "}" + draw(chinese_words)
    elif defect == "invalid_name":
        insert = words + "${" + draw(invalid_names) + "}" + draw(chinese_words)
    elif defect == "repeated":
        name = draw(valid_names)
        insert = words + "${" + name + "}" + draw(chinese_words) + "${" + name + "}" + draw(chinese_words)
    elif defect == "only_variables":
        return "${" + draw(valid_names) + "}" + draw(st.sampled_from(["", "，", "。", " "])), defect
    elif defect == "too_long":
        return base + "好" * max(1, 1001 - len(base)), defect
    elif defect == "empty":
        return "", defect
    elif defect == "too_many_public":
        names = draw(st.lists(valid_names, min_size=3, max_size=5, unique_by=str.lower))
        return "".join(draw(chinese_words) + "${" + name + "}" for name in names) + "。", defect
    elif defect == "no_keyword":
        content = "您的密码是${" + draw(valid_names) + "}" + draw(chinese_words)
        if any(word in content for word in CODE_WORDS):
            content = "您的密码是${" + draw(valid_names) + "}。"
        return content, defect
    else:  # two_variables in a verification template
        first, second = draw(st.lists(valid_names, min_size=2, max_size=2, unique_by=str.lower))
        return f"验证码${{{first}}}，序号${{{second}}}。", defect
    position = draw(st.integers(0, len(base)))
    # Never inside a placeholder: move the cut to the nearest boundary outside ${...}.
    while position and (base.rfind("${", 0, position) > base.rfind("}", 0, position) or base[position - 1] == "$"):
        position -= 1
    return base[:position] + insert + base[position:], defect


# Any text at all, with the characters the rules are about over-represented: a fuzz for "the two sides agree".
fuzz_templates = st.text(
    alphabet=st.one_of(_CJK, st.sampled_from("${}${}${}#/:-%¥【】[]. ，。:hHtTpPsSwW0123456789abcexmlo_")),
    max_size=60,
)
fuzz_values = st.text(alphabet=st.one_of(_CJK, st.sampled_from(".:/ 0123456789abcdefhmnoprstwxCNOM，。-")), max_size=30)
