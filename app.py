"""Beleidswijzer: `streamlit run app.py`. Sets up the page, the language, the login (ui/auth.py),
the index (built on first start with progress) and the navigation; each page lives in app_pages/."""
from __future__ import annotations

import streamlit as st

from ui import a11y, audit_trail, auth, index_guard, navigation, settings
from ui.i18n import LANGUAGES, t

st.set_page_config(page_title="Beleidswijzer", page_icon=":material/policy:", layout="wide")
# Streamlit's own hint under a text field ("Press Enter to apply") is English only; every field of
# the app has a Dutch button or label that says what to do, so the hint is hidden.
st.html("<style>[data-testid='InputInstructions']{display:none}</style>")

with st.sidebar:
    st.selectbox(t("language"), list(LANGUAGES), format_func=LANGUAGES.get, key="lang")
    a11y.declare_language()  # beside the switch: the main area carries no script (test_browser's hostile test)
a11y.focus_ring()

try:
    cfg = settings.load()
except settings.SettingsError as exc:
    st.error(t("settings_invalid"))
    st.caption(str(exc))
    st.stop()

user = auth.gate(cfg)  # with a login: the login page until a user with a role has signed in
if cfg.auth == "oidc":
    audit_trail.record_login(user, cfg)  # a beheerder's login, once per session, goes into the audit trail
auth.sidebar(user, cfg)

# One flat list of pages: with sections Streamlit's sidebar puts <li> outside any <ul> and <div>s
# inside it (axe-core 'list'/'listitem', README "Accessibility"); the rule pages carry their own icon.
pages = [
    st.Page("app_pages/chat.py", title=t("nav_chat"), icon=":material/chat:", default=True),
    st.Page("app_pages/lookup.py", title=t("nav_lookup"), icon=":material/manage_search:", url_path="lookup"),
    st.Page("app_pages/onboarding.py", title=t("nav_onboarding"), icon=":material/school:", url_path="introductie"),
]
if cfg.management:  # shown to a beheerder; for anyone else a link to it reaches only the page's refusal
    visibility = "visible" if user.is_beheerder else "hidden"
    pages.append(st.Page("app_pages/manage.py", title=t("nav_manage"), icon=":material/settings:",
                         url_path="manage", visibility=visibility))  # fmt: skip
pages += navigation.rule_pages().values()
page = st.navigation(pages)
navigation.set_current_rule(page)

index_guard.ensure_index(cfg)
page.run()
