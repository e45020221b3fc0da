"""The options that name a Redis deployment, shared by `serve`, `call`, `status`, `trace` and `resume`."""

from __future__ import annotations

import argparse
import os
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..runtime import Runtime

__all__ = ["DEFAULT_URL", "redis_options", "redis_runtime", "tls_of"]

DEFAULT_URL = "redis://127.0.0.1:6379/0"


def redis_options(parser: argparse.ArgumentParser, *, required: bool = True) -> None:
    """`--redis`, `--namespace` and the TLS options. With `required=False` (`trace`, `resume`) the
    command uses the local SQLite store unless `--redis` is given."""
    if required:
        parser.add_argument(
            "--redis",
            default=os.environ.get("AIFLOWS_REDIS_URL", DEFAULT_URL),
            help="Redis URL, redis://[user:password@]host:port/db or rediss:// (default $AIFLOWS_REDIS_URL)",
        )
    else:
        parser.add_argument(
            "--redis",
            default=None,
            metavar="URL",
            help="read the run from this Redis deployment (runs served by `aiflows serve` workers) "
            "instead of the local store",
        )
    parser.add_argument(
        "--namespace",
        default=os.environ.get("AIFLOWS_NAMESPACE", "aiflows"),
        help="key prefix of the deployment (default $AIFLOWS_NAMESPACE or 'aiflows')",
    )
    parser.add_argument("--tls-ca", default=None, help="CA certificate (PEM) for rediss:// URLs")
    parser.add_argument("--tls-cert", default=None, help="client certificate (PEM) for rediss:// URLs")
    parser.add_argument("--tls-key", default=None, help="client key (PEM) for rediss:// URLs")
    parser.add_argument("--tls-insecure", action="store_true", help="do not verify the server's certificate")


def tls_of(args: argparse.Namespace) -> Any:
    """The `RedisTLS` the options describe, or None."""
    if not (args.tls_ca or args.tls_cert or args.tls_key or args.tls_insecure):
        return None
    from ..bus._redis_conn import RedisTLS

    return RedisTLS(
        ca_certs=args.tls_ca,
        certfile=args.tls_cert,
        keyfile=args.tls_key,
        cert_reqs="none" if args.tls_insecure else "required",
    )


def redis_runtime(args: argparse.Namespace) -> Runtime:
    """A runtime on the deployment the options name: its bus reaches the workers, its store the runs."""
    from ..bus.redis import RedisBus
    from ..runtime import Runtime
    from ..runtime.store.redis import RedisStore

    tls = tls_of(args)
    return Runtime(
        bus=RedisBus(args.redis, tls=tls, namespace=args.namespace),
        store=RedisStore(args.redis, tls=tls, namespace=args.namespace),
    )
