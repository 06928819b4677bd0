"""The back office (Django admin) names every model and app in Chinese: a model of the project,
or any model the back office shows, without a translated verbose name fails here."""

from __future__ import annotations

import re

import pytest
from django.apps import apps
from django.contrib import admin
from django.utils import translation

CHINESE = re.compile("[\u4e00-\u9fff]")


def _shown_models():
    registered = set(admin.site._registry)
    return [
        model
        for model in apps.get_models()
        if model.__module__.startswith("metrolab.") or model in registered
    ]


def test_every_model_has_chinese_verbose_names():
    with translation.override("zh-hans"):
        untranslated = [
            f"{model._meta.label}.{attr}: {getattr(model._meta, attr)}"
            for model in _shown_models()
            for attr in ("verbose_name", "verbose_name_plural")
            if not CHINESE.search(str(getattr(model._meta, attr)))
        ]
    assert untranslated == []


def test_every_app_in_the_back_office_has_a_chinese_name():
    with translation.override("zh-hans"):
        untranslated = sorted(
            {
                f"{model._meta.app_label}: {model._meta.app_config.verbose_name}"
                for model in admin.site._registry
                if not CHINESE.search(str(model._meta.app_config.verbose_name))
            }
        )
    assert untranslated == []


@pytest.mark.django_db
def test_the_back_office_index_is_in_chinese(admin_client):
    html = admin_client.get("/admin/").content.decode()
    for english in ("Ingest counters", "Risk alert sents", "Task Results", "Tasks Database"):
        assert english not in html
    assert "采集计数器" in html
    assert "已发送的风险提醒" in html
