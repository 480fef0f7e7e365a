"""The supervisors' dashboard and wallboard (/dashboard)."""
