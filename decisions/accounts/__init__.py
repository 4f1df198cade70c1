"""Login hardening and security events (等保 2.0 三级: 身份鉴别, 安全审计).

Unique accounts, password complexity and history, expiry and a forced change on first login,
lockout after failed logins (django-axes, by user and by address), an idle session timeout, and
every login, logout, failed login, lockout and password change appended to the audit chain.
Every number is a setting (config/settings.py, the block "Login hardening").
"""
