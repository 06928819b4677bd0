"""The demo laboratory: an organisation profile and one user per role (plus two customers);
then the business apps' demo data, which each app registers here (`register_demo`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from metrolab.core import roles
from metrolab.core.models import OrganisationProfile, User
from metrolab.core.service import service
from metrolab.core.services import organisation_update, user_create

DEMO_PASSWORD = "metrolab-demo"

DEMO_ORGANISATION = {
    "name": "示范市计量测试研究院",
    "name_en": "Demo City Institute of Metrology and Testing",
    "address": "示范市科技路 88 号",
    "postcode": "100000",
    "phone": "010-8888 6666",
    "email": "service@metrolab.example",
    "website": "https://metrolab.example",
    "authorisation_no": "（示）法计（2026）01001号",
    "accreditation_no": "CNAS L0001",
    "cma_no": "260100000001",
    "seal_verification": "示范市计量测试研究院检定电子证书专用章",
    "seal_calibration": "示范市计量测试研究院校准电子证书专用章",
    "seal_testing": "示范市计量测试研究院检测电子证书专用章",
    "seal_inspection": "示范市计量测试研究院检验电子证书专用章",
}

# username, display name, roles
DEMO_USERS: list[tuple[str, str, list[str]]] = [
    ("admin", "王管理", [roles.ADMIN]),
    ("director", "陈技术", [roles.DIRECTOR, roles.APPROVER]),
    ("quality", "刘质量", [roles.QUALITY_MANAGER]),
    ("receptionist", "李受理", [roles.RECEPTIONIST]),
    ("metrologist", "张检定", [roles.METROLOGIST]),
    ("checker", "赵核验", [roles.CHECKER, roles.METROLOGIST]),
    ("approver", "孙签字", [roles.APPROVER]),
    ("equipment", "周设备", [roles.EQUIPMENT_MANAGER]),
    ("keeper", "吴样品", [roles.ITEM_KEEPER]),
    ("driver", "郑司机", [roles.DRIVER]),
    ("customer", "客户甲（示范制造公司）", [roles.CUSTOMER]),
    ("customer-b", "客户乙（示范水务公司）", [roles.CUSTOMER]),
    ("regulator", "监管员钱", [roles.REGULATOR]),
    ("device", "环境采集终端 01", [roles.DEVICE]),
]


def demo_users() -> list[tuple[str, str]]:
    return [(u, f"{name} – {', '.join(r)}") for u, name, r in DEMO_USERS]


@service("demo.seed", record_calls=False)
def demo_seed(*, actor: Any) -> bool:
    """Seed the demo lab once (as `actor`, the system); returns False when it was seeded
    before."""
    if OrganisationProfile.objects.exists() or User.objects.filter(username="admin").exists():
        return False
    organisation_update(data=DEMO_ORGANISATION, actor=actor, reason="demo laboratory")
    for username, display_name, role_codes in DEMO_USERS:
        user_create(
            username=username,
            password=DEMO_PASSWORD,
            roles=role_codes,
            display_name=display_name,
            email=f"{username}@metrolab.example",
            actor=actor,
            reason="demo laboratory",
        )
    return True


# The business apps' demo data, seeded after the users in `order` (lowest first), and the
# long-running commands the demo starts beside the web server. Each app registers its own in
# AppConfig.ready: commissions 20 (customers, disciplines, commissions), qualifications 30
# (methods, equipment and qualification libraries), tasks 40 (items and tasks assigned under
# the authorised items), environment 50 (the monitored rooms, their simulator and watcher);
# records 35 (the built-in record templates) and 60 (original records in every state).
_demo_seeders: list[tuple[int, Callable[[], object]]] = []
_demo_children: list[Callable[[], list[list[str]]]] = []


def register_demo(
    seeder: Callable[..., object],
    *,
    order: int,
    children: Callable[[], list[list[str]]] | None = None,
) -> None:
    """Add an app's demo seeder (run once per `metrolab demo` with `actor=`, the system; it
    decides itself whether its data exists already) and, optionally, the commands it needs
    running beside the server."""
    if all(registered is not seeder for _order, registered in _demo_seeders):
        _demo_seeders.append((order, seeder))
    if children is not None and children not in _demo_children:
        _demo_children.append(children)


def demo_seed_apps(*, actor: Any) -> None:
    """Every registered app's demo data, in order, written as `actor` (the system)."""
    for _order, seeder in sorted(_demo_seeders, key=lambda pair: pair[0]):
        seeder(actor=actor)


def demo_children() -> list[list[str]]:
    """The commands the registered apps run beside the demo server."""
    return [command for children in _demo_children for command in children()]
