"""The provider account: templates, voice files and numbers the simulator knows, and how it reviews submissions."""
import json
import threading
import time

# The one Django-free module of the console the simulator shares: the provider's published rules.
from notifications.aliyun import spec

# Reasons in the provider's words, one per problem key of the shared template rules.
_TEMPLATE_REASONS = {
    "length": lambda p: f"模板内容长度须为{spec.TEMPLATE_MIN_LENGTH}-{spec.TEMPLATE_MAX_LENGTH}个字符",
    "name_length": lambda p: f"模板名称不能超过{spec.TEMPLATE_NAME_MAX_LENGTH}个字符",
    "only_variables": lambda p: "模板不能只由变量组成",
    "symbols": lambda p: "模板内容含有不支持的特殊符号：" + " ".join(p["symbols"]),
    "link": lambda p: f"模板内容不能包含链接：{p['link']}",
    "ip_address": lambda p: f"模板内容不能包含IP地址：{p['ip']}",
    "adjacent": lambda p: "变量不能相邻",
    "variable_name": lambda p: "变量名不合规：" + "、".join(p["names"]),
    "reserved_name": lambda p: "变量名不合规：" + "、".join(p["names"]),
    "repeated": lambda p: "每个变量只能出现一次",
    "public_variables": lambda p: f"公共模式语音通知模板最多包含{spec.MAX_PUBLIC_VARIABLES}个变量",
    "code_variables": lambda p: "验证码模板必须且只能包含一个变量",
    "code_keyword": lambda p: "验证码模板须包含" + "、".join(spec.CODE_KEYWORDS),
}


def template_variables(content: str) -> list[str]:
    return spec.PLACEHOLDER.findall(content)


def template_problems(*, content: str, mode: str, template_kind: str, name: str = "") -> list[spec.Problem]:
    """Every published template rule the submission breaks (the name's length first, as the form checks it first)."""
    name_problem = spec.template_name_problem(name)
    return ([name_problem] if name_problem else []) + spec.template_problems(content=content, kind=template_kind, mode=mode)


def template_review(*, content: str, mode: str, template_kind: str, name: str = "") -> str:
    """The reason a TTS template is refused under the published template rules, or "" when it passes."""
    problems = template_problems(content=content, mode=mode, template_kind=template_kind, name=name)
    if not problems:
        return ""
    first = problems[0]
    return _TEMPLATE_REASONS[first.key](first.params)


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
                    "reason": item.get("reason", ""),
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

    def new_template_code(self) -> str:
        """A TtsCode no template of the account has had: above every code the account holds (the console publishes
        its approved register at start-up), above any handed out before (even after `clear()`), and above the clock's
        seconds, so a restarted simulator that was told nothing does not hand out its predecessor's codes either."""
        with self._lock:
            held = [int(code[4:]) for code in self.templates if code.startswith("TTS_") and code[4:].isdigit()]
            floor = max(getattr(self, "_last_template_code", 0), int(time.time()))
            self._last_template_code = max([floor, *held]) + 1
            return f"TTS_{self._last_template_code}"

    def clear(self) -> None:
        with self._lock:
            self.templates.clear()
            self.voice_files.clear()
            self.numbers.clear()
