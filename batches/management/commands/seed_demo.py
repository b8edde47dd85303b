from django.core.management.base import BaseCommand

from batches.api.demo_keys import demo_instrument_keys
from batches.demo import demo_logins, seed
from batches.stability.demo import seed_stability


class Command(BaseCommand):
    help = "Load the demo site: users per role, three products, sources, batches in several states."

    def handle(self, *args, **options):
        outcome = seed()
        if seed_stability(outcome["users"]):
            self.stdout.write("Demo stability studies loaded.")
        if outcome["created"]:
            self.stdout.write(self.style.SUCCESS("Demo data loaded."))
        else:
            self.stdout.write("Demo data already present; left as it is.")
        self.stdout.write("Demo logins (username / password / role):")
        for username, password, role in demo_logins():
            self.stdout.write(f"  {username:<10} {password:<20} {role}")
        keys = demo_instrument_keys()
        if keys:
            self.stdout.write("Demo instrument API keys (shown once; send as "
                              "'Authorization: Bearer KEY'):")
            for serial, key in keys:
                self.stdout.write(f"  {serial:<18} {key}")
        else:
            self.stdout.write("Demo instrument API keys were shown when they were made; "
                              "`manage.py instrument_key SERIAL` makes a new one.")
