"""`{% permitted_link %}`: a link only where the signed-in user may follow it.

    {% load links %}
    {% permitted_link 'customers:detail' c.pk %}{{ c.name }}{% endpermitted_link %}
    {% permitted_link 'items:card' task.item.number data_testid="item" %}…{% endpermitted_link %}

renders `<a href="/customers/3/">name</a>` for a user the target view admits and just the
name otherwise. Keyword arguments become attributes of the link (`_` → `-`).
`{% permitted_url 'viewname' arg as url %}` gives the URL or "" for other markup.
"""

from __future__ import annotations

from django import template
from django.utils.html import format_html, format_html_join

from metrolab.core.links import may_open as _may_open
from metrolab.core.links import permitted_url as _permitted_url

register = template.Library()


def _user(context):
    request = context.get("request")
    return getattr(request, "user", None) or context.get("user")


class PermittedLinkNode(template.Node):
    def __init__(self, viewname, args, attrs, nodelist):
        self.viewname = viewname
        self.args = args
        self.attrs = attrs
        self.nodelist = nodelist

    def render(self, context):
        content = self.nodelist.render(context)
        url = _permitted_url(
            _user(context),
            self.viewname.resolve(context),
            *[a.resolve(context) for a in self.args],
        )
        if not url:
            return content
        pairs = ((k.replace("_", "-"), v.resolve(context)) for k, v in self.attrs.items())
        attrs = format_html_join("", ' {}="{}"', pairs)
        return format_html('<a href="{}"{}>{}</a>', url, attrs, content)


@register.tag
def permitted_link(parser, token):
    bits = token.split_contents()
    if len(bits) < 2:
        raise template.TemplateSyntaxError("permitted_link needs a view name")
    viewname = parser.compile_filter(bits[1])
    args, attrs = [], {}
    for bit in bits[2:]:
        kwarg = template.base.kwarg_re.match(bit)
        if kwarg and kwarg.group(1):
            attrs[kwarg.group(1)] = parser.compile_filter(kwarg.group(2))
        else:
            args.append(parser.compile_filter(bit))
    nodelist = parser.parse(("endpermitted_link",))
    parser.delete_first_token()
    return PermittedLinkNode(viewname, args, attrs, nodelist)


@register.simple_tag(takes_context=True)
def permitted_url(context, viewname, *args):
    return _permitted_url(_user(context), viewname, *args)


@register.filter
def may_open(url, user) -> bool:
    """`{% if row.url|may_open:request.user %}` for URLs composed in Python."""
    return bool(url) and _may_open(user, str(url))
