"""QuotaDialog: what a quota applies to (a role, an SSO group or an account) and its four limits, each wrong field with
the sentence that says why under itself; a blank limit is not limited by this quota."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from nicegui import ui

from core.commands.spec import SpecError
from core.environments.quotas import Applies, QuotaRule, rule_from_form
from core.permissions import ROLES

from .image_dialogs import AskingDialog

OnSave = Callable[[QuotaRule], Awaitable[str | None]]  # the rule → None, or the sentence to show
APPLIES = {Applies.ROLE.value: 'Role', Applies.GROUP.value: 'SSO group', Applies.USER.value: 'Account'}
# (key, label, placeholder)
LIMITS = (
    ('environments', 'Environments', 'blank: any number'),
    ('running', 'Running at once', 'blank: any number'),
    ('cpus', 'CPUs (running)', '4'),
    ('memory', 'Memory (running)', '8g'),
)


class QuotaDialog(AskingDialog):
    """Answers True once ``on_save`` accepted the quota. ``accounts`` are the user names an account quota may name."""

    def __init__(self, rule: QuotaRule | None, accounts: Sequence[str], on_save: OnSave) -> None:
        super().__init__()
        self.on_save = on_save
        self.editing = rule
        title = f'Edit quota of {rule.applies.value} {rule.name}' if rule else 'New quota'
        with self, ui.card().classes('gap-1 w-[32rem] max-w-full').props(f'role=dialog aria-label="{title}"'):
            ui.label(title).classes('text-h6 break-all')
            self.applies = (
                ui.select(APPLIES, label='Applies to', value=rule.applies.value if rule else Applies.ROLE.value)
                .props('aria-label="Applies to" outlined dense')
                .classes('w-full')
            )
            self.role = ui.select(list(ROLES), label='Role', value=rule.name if rule else 'developer')
            self.group = ui.input('Group', placeholder='berth-developers', value=rule.name if rule else '')
            self.account = ui.select(sorted(accounts), label='Account', value=None, with_input=True)
            if rule is not None and rule.applies is Applies.USER:
                self.account.options = sorted({*accounts, rule.name})
                self.account.value = rule.name
            for element, label in ((self.role, 'Role'), (self.group, 'Group'), (self.account, 'Account')):
                element.props(f'aria-label="{label}" outlined dense autocomplete=off').classes('w-full')
            self.name_error = ui.label().classes('text-negative text-caption').props('role=alert')
            self.fields: dict[str, ui.input] = {}
            with ui.grid(columns=2).classes('w-full gap-x-3 gap-y-0'):
                for key, label, placeholder in LIMITS:
                    self.fields[key] = (
                        ui.input(label, placeholder=placeholder, value=_value(rule, key))
                        .props(f'aria-label="{label}" autocomplete=off dense outlined')
                        .classes('w-full')
                    )
            ui.label(
                'CPUs and memory count the running environments only; a blank limit is not limited by this quota.'
            ).classes('text-caption')
            self.error = ui.label().classes('text-negative').props('role=alert')
            with ui.row().classes('w-full justify-end'):
                ui.button('Cancel', on_click=lambda: self.submit(None)).props('flat')
                ui.button('Save', on_click=self._save).props('aria-label="Save quota"').mark('save-quota')
        self.applies.on_value_change(self._show_name)
        self._show_name()
        if rule is not None:
            self.applies.disable()  # the rule's row is what it applies to: a new one for something else
            for element in (self.role, self.group, self.account):
                element.disable()

    def _show_name(self) -> None:
        applies = self.applies.value
        self.role.set_visibility(applies == Applies.ROLE.value)
        self.group.set_visibility(applies == Applies.GROUP.value)
        self.account.set_visibility(applies == Applies.USER.value)

    def _name(self) -> str:
        applies = self.applies.value
        element = {Applies.ROLE.value: self.role, Applies.GROUP.value: self.group}.get(applies, self.account)
        return str(element.value or '').strip()

    async def _save(self) -> None:
        values = {key: str(field.value or '') for key, field in self.fields.items()}
        for field in self.fields.values():
            field.error = None
        self.name_error.text = self.error.text = ''
        try:
            rule = rule_from_form({**values, 'applies': self.applies.value, 'name': self._name()})
        except SpecError as error:
            for key, message in error.errors.items():
                if key in self.fields:
                    self.fields[key].error = message
                else:
                    self.name_error.text = message
            self.error.text = 'Correct the fields marked in red.'
            return
        problem = await self.on_save(rule)
        if problem:
            self.error.text = problem
            return
        self.submit(True)


def _value(rule: QuotaRule | None, key: str) -> str:
    value = getattr(rule.limits, key) if rule is not None else None
    if value is None:
        return ''
    if key == 'memory':
        return memory_text(int(value))
    return f'{value:g}' if isinstance(value, float) else str(value)


def memory_text(size: int) -> str:
    """Bytes as the memory field reads them back: '8g', '512m', else the bytes."""
    for unit, factor in (('g', 2**30), ('m', 2**20), ('k', 2**10)):
        if size and size % factor == 0:
            return f'{size // factor}{unit}'
    return str(size)
