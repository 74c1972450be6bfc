"""Made-up residents and migrant workers: names, phones and ID numbers that look real.

They exist only to show that personal data is sealed and erasable; none is a real person.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

from safecomm_core.personal import PersonInput

__all__ = ["id_number", "residents", "workers"]

_FAMILY = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程"
_GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国建华志强海燕红梅"
_REGIONS = ["510402", "510411", "510421", "511102", "513401", "530102", "500101"]
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"


def id_number(rng: random.Random, born: date) -> str:
    """An 18-digit resident ID with a valid check digit (GB 11643)."""
    body = f"{rng.choice(_REGIONS)}{born:%Y%m%d}{rng.randint(0, 999):03d}"
    total = sum(int(c) * w for c, w in zip(body, _WEIGHTS, strict=True))
    return body + _CHECK[total % 11]


def _name(rng: random.Random) -> str:
    return rng.choice(_FAMILY) + "".join(rng.choice(_GIVEN) for _ in range(rng.choice([1, 2])))


def _phone(rng: random.Random) -> str:
    return f"1{rng.choice('3589')}{rng.randint(0, 999_999_999):09d}"


def residents(rng: random.Random, count: int, prefix: str = "p") -> list[PersonInput]:
    """``count`` made-up people with a name, a phone number and an ID number."""
    people = []
    for n in range(count):
        born = date(1950, 1, 1) + timedelta(days=rng.randint(0, 365 * 45))
        people.append(
            PersonInput(
                ref=f"{prefix}-{n:06d}",
                name=_name(rng),
                phone=_phone(rng),
                id_number=id_number(rng, born),
            )
        )
    return people


def workers(rng: random.Random, count: int, prefix: str = "mw") -> list[PersonInput]:
    """``count`` made-up migrant workers aged 18–55 in 2014, each with an ID number of
    their own (registration refuses a second active worker with the same number)."""
    people: list[PersonInput] = []
    seen: set[str] = set()
    while len(people) < count:
        born = date(1959, 1, 1) + timedelta(days=rng.randint(0, 365 * 37))
        number = id_number(rng, born)
        if number in seen:
            continue
        seen.add(number)
        people.append(
            PersonInput(
                ref=f"{prefix}-{len(people):06d}",
                name=_name(rng),
                phone=_phone(rng),
                id_number=number,
            )
        )
    return people
