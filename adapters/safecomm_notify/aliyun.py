"""Aliyun SMS (dysmsapi) through its documented HTTP API, with httpx.

``SendSms`` (API version 2017-05-25) is called as an RPC-style POST signed with the access
key (signature version 1.0, HMAC-SHA1 over the sorted, percent-encoded parameters). The
official SDK is not used: it pins an old ``cryptography`` and pulls many packages for one
request. Replies come through the "SmsUp" HTTP push: a JSON list of messages with
``phone_number`` and ``content``.

Settings (the ``[channels.sms]`` table): ``sign_name``, ``template_code``, ``region``
(default ``cn-hangzhou``), ``endpoint`` (default ``https://dysmsapi.aliyuncs.com/``), and
the names of the environment variables holding the access key, ``access_key_id_env`` and
``access_key_secret_env`` (defaults ``ALIBABA_CLOUD_ACCESS_KEY_ID`` and
``ALIBABA_CLOUD_ACCESS_KEY_SECRET``): keys are never written in a settings file. The
template takes ``${code}``, ``${category}``, ``${area}``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import httpx

from safecomm_notify.channel import DeliveryFailed, Outgoing
from safecomm_notify.sms import InboundSms

__all__ = ["AliyunSms", "rpc_signature"]

#: Codes after which sending the same text to the same number again cannot help.
_FINAL_CODES = frozenset(
    {
        "isv.MOBILE_NUMBER_ILLEGAL",
        "isv.TEMPLATE_MISSING_PARAMETERS",
        "isv.SMS_TEMPLATE_ILLEGAL",
        "isv.SMS_SIGNATURE_ILLEGAL",
        "isv.DENY_IP_RANGE",
        "isv.BLACK_KEY_CONTROL_LIMIT",
        "isv.INVALID_PARAMETERS",
    }
)


def _encode(text: str) -> str:
    return quote(text, safe="~")


def rpc_signature(method: str, params: Mapping[str, str], secret: str) -> str:
    """The signature (version 1.0) of an RPC-style request with ``params``."""
    canonical = "&".join(f"{_encode(k)}={_encode(params[k])}" for k in sorted(params))
    to_sign = f"{method}&{_encode('/')}&{_encode(canonical)}"
    digest = hmac.new(f"{secret}&".encode(), to_sign.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


class AliyunSms:
    """The Aliyun SMS provider."""

    def __init__(self, settings: Mapping[str, Any]) -> None:
        self.endpoint = str(settings.get("endpoint", "https://dysmsapi.aliyuncs.com/"))
        self.region = str(settings.get("region", "cn-hangzhou"))
        self.sign_name = str(settings.get("sign_name", ""))
        self.template_code = str(settings.get("template_code", ""))
        id_env = str(settings.get("access_key_id_env", "ALIBABA_CLOUD_ACCESS_KEY_ID"))
        secret_env = str(settings.get("access_key_secret_env", "ALIBABA_CLOUD_ACCESS_KEY_SECRET"))
        self._key_id = os.environ.get(id_env, "")
        self._secret = os.environ.get(secret_env, "")
        if not (self._key_id and self._secret and self.sign_name and self.template_code):
            raise ValueError(
                f"Aliyun SMS needs sign_name and template_code in its settings, and the "
                f"access key in ${id_env} and ${secret_env}"
            )

    def request(self, message: Outgoing, code: str) -> dict[str, str]:
        """The signed parameters of ``SendSms`` for ``message``."""
        payload = message.payload
        params = {
            "AccessKeyId": self._key_id,
            "Action": "SendSms",
            "Format": "JSON",
            "PhoneNumbers": message.contact,
            "RegionId": self.region,
            "SignName": self.sign_name,
            "SignatureMethod": "HMAC-SHA1",
            "SignatureNonce": str(uuid.uuid4()),
            "SignatureVersion": "1.0",
            "TemplateCode": self.template_code,
            "TemplateParam": json.dumps(
                {
                    "code": code,
                    "category": str(payload.get("category", "")),
                    "area": str(payload.get("area", ""))[:35],
                },
                ensure_ascii=False,
            ),
            "Timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "Version": "2017-05-25",
        }
        params["Signature"] = rpc_signature("POST", params, self._secret)
        return params

    async def send(self, client: httpx.AsyncClient, message: Outgoing, code: str) -> str:
        """Call ``SendSms``; its ``BizId`` is the message id."""
        response = await client.post(self.endpoint, data=self.request(message, code))
        if response.status_code >= 500:
            raise DeliveryFailed(f"Aliyun SMS answered {response.status_code}")
        try:
            answer = response.json()
        except ValueError:
            raise DeliveryFailed(f"Aliyun SMS answered {response.status_code}") from None
        result = str(answer.get("Code", ""))
        if result == "OK":
            return str(answer.get("BizId", ""))
        raise DeliveryFailed(
            f"Aliyun SMS refused: {result} {answer.get('Message', '')}".strip(),
            retry=result not in _FINAL_CODES,
        )

    def inbound(self, body: bytes) -> tuple[list[InboundSms], bytes]:
        """The replies of an SmsUp push."""
        answer = json.dumps({"code": 0, "msg": "成功"}, ensure_ascii=False).encode()
        try:
            items = json.loads(body)
        except ValueError:
            return [], answer
        replies = [
            InboundSms(str(item["phone_number"]), str(item["content"]))
            for item in (items if isinstance(items, list) else [])
            if isinstance(item, dict) and "phone_number" in item and "content" in item
        ]
        return replies, answer
