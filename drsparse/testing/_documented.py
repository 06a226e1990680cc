"""The documented responses: every example of Knipp's "Robot Responses" page, as data.

In: nothing. Out: ``EXAMPLES``, each example's name mapped to its ``key: value`` lines exactly
as the page prints them (their order included: "The order of the lines is not relevant and can
change at any time", and the page itself writes ``result.msg`` before ``result.code`` in some
of them). The names are those of the page's sections, in the page's order.

Two slips of the page are kept as printed, because a fake robot that corrects its model is no
longer the model: the ccTLD example's middle step carries another reference than the first
and last step (``...7292`` against ``...7242``), and the "canceled" notice carries 10303, the
code of a completed transfer, where the code table has 10304. The scenarios of this package
use the codes of the table (see ``_flows``).
"""

from __future__ import annotations

__all__ = ["EXAMPLES"]

_COMPLETED = "result.code: 10000\nresult.msg: Command completed successfully\n"
_HANDLES = """\
ns.1.name: ns1.myns.de
ns.1.id: HOST-XYZ1
ns.1.role: primary
ns.2.name: ns2.myns.de
ns.2.id: HOST-XYZ2
contact.1.type: registrant
contact.1.id: C-12345
contact.2.type: admin
contact.2.id: C-12345
contact.3.type: tech
contact.3.id: C-12345
contact.4.type: zone
contact.4.id: C-12345
"""

# "Reactions to applications", then "Results of asynchronous operations", then "Unrequested
# DRS messages", in the order of the page.
_PAGE = {
    "syntax-error": """\
result.code: 20001
result.msg: Command syntax error
result.1.section: 2
result.1.key: country
result.1.code: 20206
result.1.msg: invalid field content
result.1.value: GERMANY
result.1.line.no: 43
result.2.section: 2
result.2.key: phone
result.2.code: 20204
result.2.msg: field missing
""",
    "registration-success": "reference: TemplateEMailProcessor-1067340658616\n"
    "domain.name: ixpos.com\n" + _COMPLETED + _HANDLES,
    "registration-object-exists": """\
reference: TemplateEMailProcessor-1062101424074
result.msg: Object exists
result.code: 23002
result.1.code: 23002
result.1.msg: Object exists
result.1.value.1: ixpos.com
result.1.key.1: domain
""",
    "registration-not-delegated": """\
reference: WebInterface-20031029-112626-216
domain.name: organisierdich.de
result.msg: Command completed successfully
result.code: 10000
result.1.code: 23300
result.1.msg: Object not delegated
result.1.data.1.key: expire.date
result.1.data.1.value: 2003-11-28T23:00:00.0Z
result.1.data.2.key: domain.name
result.1.data.2.value: organisierdich.de
""",
    "transfer-in-initiated": """\
reference: TemplateEMailProcessor-1067505306299
domain.name: acme.com
result.msg: Incoming transfer initiated
result.code: 10310
""",
    "transfer-in-pending-transfer": """\
reference: TemplateEMailProcessor-1067343198996
domain.name: acme2.com
result.msg: Object pending transfer
result.code: 23000
result.1.code: 23000
result.1.msg: Object pending transfer
result.1.data.1.key: domain.name
result.1.data.1.value: acme2.com
""",
    "transfer-in-invalid-authinfo": """\
reference: TemplateEMailProcessor-1066986246900
domain.name: acme3.info
result.msg: Invalid authorization information
result.code: 22002
result.1.code: 22002
result.1.msg: Invalid authorization information
result.1.data.1.key: domain.name
result.1.data.1.value: acme3.info
""",
    "transfer-in-completed": "reference: TemplateEMailProcessor-1067505306299\n"
    "domain.name: acme.com\n" + _COMPLETED + _HANDLES,
    "transfer-in-rejected": """\
reference: TemplateEMailProcessor-1067505306299
domain.name: acme.com
result.code: 23302
result.msg: Incoming transfer rejected
""",
    "de-registration-initiated": """\
reference: TemplateEMailProcessor-1063716677292
domain.name: acme.de
result.msg: Registration initiated
result.code: 10320
""",
    "de-registration-completed": "reference: TemplateEMailProcessor-1063716677292\n"
    "domain.name: acme.de\n" + _COMPLETED,
    "cctld-command-received": """\
reference: TemplateEMailProcessor-1063716677242
domain.name: acme.co.uk
result.msg: Command received
result.code: 10360
""",
    "cctld-registration-initiated": """\
reference: TemplateEMailProcessor-1063716677292
domain.name: acme.co.uk
result.msg: Registration initiated
result.code: 10320
""",
    "cctld-registration-completed": "reference: TemplateEMailProcessor-1063716677242\n"
    "domain.name: acme.co.uk\n" + _COMPLETED,
    "transfer-out-initiated": """\
domain.name: acme.com
result.msg: Outgoing transfer initiated
result.code: 10300
result.1.code: 10300
result.1.msg: Outgoing transfer initiated
result.1.data.1.key: deadline
result.1.data.1.value: 2003-11-04T11:10:24.546Z
""",
    "transfer-out-completed": """\
domain.name: acme.com
result.msg: Outgoing transfer completed
result.code: 10303
""",
    "transfer-out-rejected": """\
domain.name: acme.com
result.msg: Outgoing transfer rejected
result.code: 10302
""",
    "transfer-out-canceled": """\
domain.name: acme.com
result.msg: Outgoing transfer canceled
result.code: 10303
""",
}


def _pairs(text: str) -> tuple[tuple[str, str], ...]:
    return tuple(
        (key, value) for key, _, value in (line.partition(": ") for line in text.splitlines())
    )


#: Every documented example: its name and its ``(key, value)`` pairs, in the page's order.
EXAMPLES: dict[str, tuple[tuple[str, str], ...]] = {
    name: _pairs(text) for name, text in _PAGE.items()
}
