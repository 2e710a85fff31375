"""Django's makemessages, without msgmerge's fuzzy matching.

A fuzzy guess is a near-miss translation of another message (often of a banner string): it is
not shown to anyone, but a translator has to undo it, and the catalogue checks count it as
untranslated. New message ids arrive empty instead (`make messages`, README "Translations").
"""

from django.core.management.commands import makemessages


class Command(makemessages.Command):
    msgmerge_options = [*makemessages.Command.msgmerge_options, "--no-fuzzy-matching"]
