"""`{% load form_widgets %}`: `{{ field|styled }}` draws a form field's widget with Bootstrap's classes.

One place for every form, the login form included: the base class the widget's kind needs (kept if the form chose a
variant such as `form-control-sm`), and `is-invalid` on a field with errors, so the field itself is marked in red.
"""
from django import forms, template

register = template.Library()


def _base_class(widget: forms.Widget) -> str:
    if isinstance(widget, forms.CheckboxInput):
        return "form-check-input"
    if isinstance(widget, forms.Select):
        return "form-select"
    return "form-control"


@register.filter
def styled(field: forms.BoundField):
    widget = field.field.widget
    classes = widget.attrs.get("class", "").split()
    base = _base_class(widget)
    if base not in classes:
        classes.insert(0, base)
    if field.errors:
        classes.append("is-invalid")
    return field.as_widget(attrs={"class": " ".join(classes)})
