"""gunicorn's logger with survey and unsubscribe tokens taken out of access and error lines.

`config/gunicorn.conf.py` installs it (`logger_class`), so an operator who turns gunicorn's access log on
(`--access-logfile -`, `GUNICORN_CMD_ARGS`) still logs `/s/<token>/` and `/u/<token>/` only. Any other
server in front of the app (nginx, a load balancer) must be told the same: see docs/security.md.
"""

from gunicorn.glogging import Logger

from config.observability.logging import path_scrub


class TokenScrubbingLogger(Logger):
    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        return {key: path_scrub(value) for key, value in atoms.items()}

    def error(self, msg, *args, **kwargs):
        super().error(path_scrub(msg), *(path_scrub(arg) for arg in args), **kwargs)

    def warning(self, msg, *args, **kwargs):
        super().warning(path_scrub(msg), *(path_scrub(arg) for arg in args), **kwargs)

    def info(self, msg, *args, **kwargs):
        super().info(path_scrub(msg), *(path_scrub(arg) for arg in args), **kwargs)

    def exception(self, msg, *args, **kwargs):
        super().exception(path_scrub(msg), *(path_scrub(arg) for arg in args), **kwargs)
