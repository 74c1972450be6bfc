"""The pages' own words in Chinese (the default) and English.

Codes a record holds (statuses, kinds, roles), command fields and command titles are named
by :mod:`safecomm_reports.labels`, which the reports share; this module holds only what
the pages add: navigation, headings, buttons and messages.
"""

from __future__ import annotations

from safecomm_reports.labels import Lang

__all__ = ["WORDS", "words"]

WORDS: dict[str, tuple[str, str]] = {
    "title": ("平安社区", "Safe Community"),
    "nav_today": ("今日待办", "Today"),
    "nav_disputes": ("矛盾纠纷", "Disputes"),
    "nav_alerts": ("警情联动", "Alert board"),
    "nav_migrants": ("外来务工人员", "Migrant workers"),
    "nav_reports": ("报表", "Reports"),
    "nav_audit": ("审计", "Audit"),
    "sign_in": ("登录", "Sign in"),
    "sign_out": ("退出", "Sign out"),
    "token": ("令牌", "Token"),
    "token_help": (
        "粘贴管理员签发的令牌(safecomm token issue)。",
        "Paste the token your administrator issued (safecomm token issue).",
    ),
    "bad_token": ("令牌无效或已过期", "The token is not valid or has expired"),
    "no_links": (
        "本服务不接受登录链接：请在下面粘贴令牌。",
        "This server takes no sign-in links: paste the token below.",
    ),
    "signed_in": ("已登录，正在打开今日待办……", "Signed in; opening Today…"),
    "switch_lang": ("English", "中文"),
    "as_of": ("截至", "As of"),
    "community": ("社区", "Community"),
    "all": ("全部", "All"),
    "status": ("状态", "Status"),
    "month": ("月份", "Month"),
    "filter": ("筛选", "Filter"),
    "previous": ("上一页", "Previous"),
    "next": ("下一页", "Next"),
    "page_of": (
        "第 {page} 页，共 {pages} 页({count} 件)",
        "Page {page} of {pages} ({count} cases)",
    ),
    "nothing": ("无", "Nothing"),
    "nothing_to_do": ("没有待办事项", "Nothing to act on"),
    "unit_alerts": ("待本单位确认的警情", "Alerts your unit has not acknowledged"),
    "case": ("案件编号", "Case"),
    "kind": ("类别", "Kind"),
    "reported_on": ("登记日期", "Reported on"),
    "mediator": ("调解员", "Mediator"),
    "sessions": ("调解次数", "Sessions"),
    "timeline": ("经过", "Timeline"),
    "what": ("事项", "What happened"),
    "occurred": ("发生时间", "Happened"),
    "recorded": ("记录时间", "Recorded"),
    "by_whom": ("记录人", "By"),
    "actions_now": ("现在可以办理", "What can be done now"),
    "no_actions": (
        "您的角色在此案件上没有可办理的事项",
        "Nothing your role can do on this case now",
    ),
    "submit": ("提交", "Submit"),
    "refused": ("未能办理，未写入任何记录：", "Refused; nothing was written:"),
    "done": ("已办理", "Done"),
    "parties": ("当事人", "Parties"),
    "party_n": ("当事人 {n}", "Party {n}"),
    "open_person": ("查看个人信息", "Open personal details"),
    "open_texts": ("查看案件文字记录", "Open the case's written text"),
    "why": ("查看理由", "Reason for opening"),
    "worker_ref": ("人员编号(完整)", "Worker reference (in full)"),
    "opened_logged": ("本次查看已记入审计日志", "This opening is recorded in the audit log"),
    "masked": ("(已遮蔽)", "(masked)"),
    "alerts": ("警情", "Alerts"),
    "alert": ("警情", "Alert"),
    "raised_at": ("发出时间", "Raised at"),
    "raised_by": ("发出单位", "Raised by"),
    "priority": ("优先级", "Priority"),
    "units": ("单位", "Units"),
    "acknowledge": ("确认收到", "Acknowledge"),
    "live": ("实时更新", "Live"),
    "reports": ("报表", "Reports"),
    "monthly": ("月度报表", "Monthly report"),
    "self_assessment": ("自评", "Self-assessment"),
    "period": ("期间", "Period"),
    "show": ("显示", "Show"),
    "downloads": ("下载", "Downloads"),
    "html_report": ("HTML 报表", "HTML report"),
    "audit": ("审计", "Audit"),
    "chain": ("哈希链", "Hash chain"),
    "intact": ("完好", "Intact"),
    "altered": ("已被改动", "Altered"),
    "not_verified": ("尚未核验", "Not verified yet"),
    "verify_now": ("立即核验", "Verify now"),
    "records": ("记录数", "Records"),
    "position": ("位置", "Position"),
    "seals": ("签章", "Seals"),
    "sealed_at": ("签章时间", "Sealed at"),
    "key": ("密钥", "Key"),
    "bundle": ("证据包", "Evidence bundle"),
    "bundle_help": (
        "报表、记录(个人信息仍加密)、签章和哈希清单。",
        "Reports, the records (personal data still encrypted), the seals and a manifest.",
    ),
    "bundle_whole": (
        "证据包包含所有社区的记录，仅限全街道人员下载。",
        "A bundle holds every community's records: only for staff of the whole subdistrict.",
    ),
    "findings": ("发现", "Findings"),
    "not_found": ("未找到", "Not found"),
    "not_allowed": ("无权访问", "Not allowed"),
    "error": ("出错了", "Something went wrong"),
    "back_today": ("返回今日待办", "Back to Today"),
    "registrations_due": ("待登记的外来务工人员", "Registrations due"),
    "signed_in_as": ("{who}({role})", "{who} ({role})"),
    "skip": ("跳到正文", "Skip to content"),
}


def words(lang: Lang) -> dict[str, str]:
    """Every word of the pages in ``lang``, by key (what a template calls ``w``)."""
    index = 1 if lang == "en" else 0
    return {key: pair[index] for key, pair in WORDS.items()}
