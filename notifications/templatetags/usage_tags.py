from django import template

register = template.Library()


@register.filter
def item(row: dict, key: str):
    """row[key] in a template, for the usage tables that share one include over different columns."""
    return row.get(key)
