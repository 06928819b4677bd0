"""Run as a separate process by test_signin_throttle: posts failed sign-ins to the sign-in page
(through Django's test client, so a whole request each) against the database named by
DATABASE_URL, as one of several server processes would."""

import os
import sys
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.test import Client  # noqa: E402

# A fast hasher, as in the test suite (conftest): the throttle, not Argon2, is under test.
settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def main() -> None:
    writer, count, start_at, address = (
        sys.argv[1],
        int(sys.argv[2]),
        float(sys.argv[3]),
        sys.argv[4],
    )
    client = Client(REMOTE_ADDR=address)
    time.sleep(max(0.0, start_at - time.time()))  # all writers start together
    for n in range(count):
        response = client.post("/login/", {"username": f"w{writer}-{n}", "password": "wrong"})
        assert response.status_code == 200, response.status_code


if __name__ == "__main__":
    main()
