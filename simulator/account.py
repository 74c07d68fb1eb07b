"""The provider account: templates, voice files and numbers the simulator knows, and how it reviews submissions."""
import json
import re
import threading

VARIABLE = re.compile(r"\$\{([^}]*)\}")
VARIABLE_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
RESERVED_NAMES = {"email", "mobile", "id", "nick", "site"}
FORBIDDEN_SYMBOLS = set("#/:-%¥$【】[]")  # checked outside ${...}
CODE_WORDS = ("验证码", "注册码", "校验码", "动态码")


def template_variables(content: str) -> list[str]:
    return VARIABLE.findall(content)


def template_review(*, content: str, mode: str, template_kind: str, name: str = "") -> str:
    """The reason a TTS template is refused under the published template rules, or "" when it passes."""
    names = template_variables(content)
    text = VARIABLE.sub("", content)
    if not 1 <= len(content) <= 1000:
        return "模板内容长度须为1-1000个字符"
    if len(name) > 30:
        return "模板名称不能超过30个字符"
    if not text.strip():
        return "模板不能只由变量组成"
    if any(symbol in text for symbol in FORBIDDEN_SYMBOLS) or "http" in content.lower():
        return "模板内容含有不支持的特殊符号或链接"
    if "}${" in content or re.search(r"\}[,，]\$\{", content):
        return "变量不能相邻"
    for var in names:
        if not VARIABLE_NAME.match(var) or var.lower() in RESERVED_NAMES:
            return f"变量名不合规：{var}"
    if len(set(names)) != len(names):
        return "每个变量只能出现一次"
    if template_kind == "verification":
        if len(names) != 1:
            return "验证码模板必须且只能包含一个变量"
        if not any(word in content for word in CODE_WORDS):
            return "验证码模板须包含验证码、注册码、校验码或动态码"
    elif mode == "public" and len(names) > 2:
        return "公共模式语音通知模板最多包含2个变量"
    return ""


def voice_file_review(*, name: str, content: str = "") -> str:
    """Voice files have no published content rules the simulator can check: a name saying "reject" (or 驳回) is refused."""
    if "reject" in name.lower() or "驳回" in name or "reject" in content.lower():
        return "语音文件内容不符合规范"
    return ""


class Account:
    """In-memory, thread-safe store of the account's resources, keyed by their provider codes."""

    def __init__(self, access_keys: dict[str, str]):
        self._lock = threading.Lock()
        self.access_keys = dict(access_keys)
        self.templates: dict[str, dict] = {}
        self.voice_files: dict[str, dict] = {}
        self.numbers: dict[str, dict] = {}

    def load_file(self, path: str) -> None:
        with open(path, encoding="utf-8") as handle:
            self.merge(json.load(handle))

    def merge(self, data: dict) -> None:
        with self._lock:
            for item in data.get("templates", []):
                content = item.get("content", "")
                self.templates[item["code"]] = {
                    "code": item["code"], "mode": item.get("mode", "public"), "kind": item.get("kind", "notification"),
                    "content": content, "status": item.get("status", "approved"), "variables": template_variables(content),
                }
            for item in data.get("voice_files", []):
                self.voice_files[item["code"]] = {
                    "code": item["code"], "mode": item.get("mode", "public"), "status": item.get("status", "approved"),
                }
            for item in data.get("numbers", []):
                self.numbers[item["number"]] = {"number": item["number"], "status": item.get("status", "active")}
            for key_id, secret in data.get("access_keys", {}).items():
                self.access_keys[key_id] = secret

    def snapshot(self) -> dict:
        with self._lock:
            return {
                "templates": list(self.templates.values()),
                "voice_files": list(self.voice_files.values()),
                "numbers": list(self.numbers.values()),
                "access_keys": sorted(self.access_keys),
            }

    def template(self, code: str) -> dict | None:
        with self._lock:
            return self.templates.get(code)

    def voice_file(self, code: str) -> dict | None:
        with self._lock:
            return self.voice_files.get(code)

    def number(self, number: str) -> dict | None:
        with self._lock:
            return self.numbers.get(number)

    def clear(self) -> None:
        with self._lock:
            self.templates.clear()
            self.voice_files.clear()
            self.numbers.clear()
