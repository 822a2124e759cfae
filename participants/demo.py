"""The fictional demo area, modelled on the area in seed 000: one primary care centre's home
health care team, the municipality's needs-assessment unit and three home-help providers.
"""

import datetime as dt
import random
from dataclasses import dataclass, field

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from .models import CareTeamEntry, Membership, Organisation, Person, Relative, Role, User
from .personnummer import with_check_digit

DEMO_PASSWORD = "Demo-Vom-2026!"  # noqa: S105 - printed by `make run`; demo data only
DEMO_MARKER_ORG = "Solhöjdens vårdcentral – hemsjukvård"

FIRST_NAMES_F = [
    "Astrid", "Märta", "Gunvor", "Ingrid", "Britt", "Gösta", "Elsa", "Åsa", "Kerstin",
    "Birgitta", "Margareta", "Signe", "Ulla", "Solveig", "Dagny", "Karin", "Märit", "Ebba",
]  # fmt: skip
FIRST_NAMES_M = [
    "Gösta", "Åke", "Sven", "Bengt", "Örjan", "Göran", "Lennart", "Björn", "Torbjörn",
    "Håkan", "Stig", "Sture", "Rune", "Nils", "Östen", "Per", "Ragnar", "Ulf",
]  # fmt: skip
LAST_NAMES = [
    "Åberg", "Öberg", "Lindström", "Sjöberg", "Bäckström", "Nordqvist", "Ängström",
    "Strömberg", "Hägglund", "Löfgren", "Ekström", "Sandén", "Björklund", "Forsén",
    "Wikström", "Dahlgren", "Åkesson", "Söderlund", "Holmén", "Nyström",
]  # fmt: skip
STREETS = [
    "Björkvägen", "Ängsvägen", "Sjögatan", "Kvarnbacken", "Häggvägen", "Lärkstigen",
    "Ekbacken", "Åsvägen", "Rönnvägen", "Solgläntan",
]  # fmt: skip
RELATIONS = ["dotter", "son", "make", "maka", "sambo", "syster", "brorson", "barnbarn"]


@dataclass
class DemoArea:
    home_health_care: Organisation
    assessment: Organisation
    home_help: list[Organisation]
    staff: dict[str, list[User]] = field(default_factory=dict)  # role key -> users
    logins: list[tuple[str, str, str]] = field(default_factory=list)  # username, role, org
    persons: list[Person] = field(default_factory=list)


_password_hash: dict[str, str] = {}


def _demo_password_hash() -> str:
    # Hashing is deliberately slow; one hash serves every demo user.
    if "hash" not in _password_hash:
        _password_hash["hash"] = make_password(DEMO_PASSWORD)
    return _password_hash["hash"]


def _user(area: DemoArea, username, first, last, organisation, role, title, phone) -> User:
    user, _ = User.objects.get_or_create(
        username=username,
        defaults={
            "first_name": first,
            "last_name": last,
            "email": f"{username}@demo.vom.example",
            "password": _demo_password_hash(),
        },
    )
    Membership.objects.get_or_create(
        user=user,
        organisation=organisation,
        role=role,
        defaults={"title": title, "direct_phone": phone},
    )
    key = f"{organisation.kind}:{role}"
    area.staff.setdefault(key, []).append(user)
    area.logins.append((username, Role(role).label, organisation.name))
    return user


def _organisations() -> tuple[Organisation, Organisation, list[Organisation]]:
    hhc = Organisation.objects.create(
        name=DEMO_MARKER_ORG,
        kind=Organisation.Kind.HOME_HEALTH_CARE,
        principal=Organisation.Principal.REGION,
        phone="08-555 101 00",
        address="Solhöjdsvägen 2, 136 40 Sjöstad",
        email="hemsjukvard.solhojden@demo.vom.example",
        opening_hours="mån–fre 08–17",
        out_of_hours_phone="1177",
    )
    assessment = Organisation.objects.create(
        name="Sjöstads kommun – biståndsenheten",
        kind=Organisation.Kind.NEEDS_ASSESSMENT,
        principal=Organisation.Principal.MUNICIPALITY,
        phone="08-555 202 00",
        address="Rådhustorget 1, 136 81 Sjöstad",
        email="bistand@demo.vom.example",
        opening_hours="mån–fre 08–16.30",
        out_of_hours_phone="08-555 202 99 (socialjour)",
    )
    providers = [
        Organisation.objects.create(
            name="Sjöstads kommunala hemtjänst",
            kind=Organisation.Kind.HOME_HELP,
            principal=Organisation.Principal.MUNICIPALITY,
            phone="08-555 303 00",
            address="Kvarngatan 5, 136 43 Sjöstad",
            opening_hours="alla dagar 07–22",
            out_of_hours_phone="08-555 303 99 (nattpatrull)",
        ),
        Organisation.objects.create(
            name="Omsorgshuset Hemtjänst AB",
            kind=Organisation.Kind.HOME_HELP,
            principal=Organisation.Principal.PRIVATE,
            phone="08-555 404 00",
            address="Ängsgatan 12, 136 44 Sjöstad",
            opening_hours="alla dagar 07–22",
            out_of_hours_phone="08-555 404 99",
        ),
        Organisation.objects.create(
            name="Trygga Händer Omsorg AB",
            kind=Organisation.Kind.HOME_HELP,
            principal=Organisation.Principal.PRIVATE,
            phone="08-555 505 00",
            address="Björkgatan 3, 136 45 Sjöstad",
            opening_hours="alla dagar 07–22",
            out_of_hours_phone="08-555 505 99",
        ),
    ]
    return hhc, assessment, providers


def _staff(area: DemoArea) -> None:
    hhc, assessment = area.home_health_care, area.assessment
    _user(
        area,
        "lakare",
        "Erik",
        "Holmén",
        hhc,
        Role.PHYSICIAN,
        "Specialist i geriatrik",
        "08-555 101 10",
    )
    nurses = [("Sara", "Lindqvist"), ("Maria", "Åström"), ("Lena", "Björk"), ("Johanna", "Öhman"),
              ("Karin", "Sjödin"), ("Anneli", "Bergström")]  # fmt: skip
    for index, (first, last) in enumerate(nurses, start=1):
        username = "sjukskoterska" if index == 1 else f"sjukskoterska{index}"
        _user(
            area,
            username,
            first,
            last,
            hhc,
            Role.NURSE,
            "Distriktssköterska",
            f"08-555 101 2{index}",
        )
    for index, (first, last) in enumerate([("Fatima", "Said"), ("Pia", "Näslund")], start=1):
        _user(
            area,
            f"usk{index}",
            first,
            last,
            hhc,
            Role.ASSISTANT_NURSE,
            "Undersköterska",
            f"08-555 101 3{index}",
        )
    _user(
        area,
        "chef.hsv",
        "Helena",
        "Wästberg",
        hhc,
        Role.MANAGER,
        "Enhetschef hemsjukvård",
        "08-555 101 01",
    )
    _user(
        area,
        "admin.hsv",
        "Tomas",
        "Lundén",
        hhc,
        Role.ORG_ADMIN,
        "Systemförvaltare",
        "08-555 101 02",
    )
    assessors = [("Jonas", "Ekdahl"), ("Amira", "Haddad"), ("Sofia", "Källström"),
                 ("Per", "Lövgren"),
                 ("Ida", "Sjöholm")]  # fmt: skip
    for index, (first, last) in enumerate(assessors, start=1):
        username = "handlaggare" if index == 1 else f"handlaggare{index}"
        _user(
            area,
            username,
            first,
            last,
            assessment,
            Role.NEEDS_ASSESSOR,
            "Biståndshandläggare",
            f"08-555 202 1{index}",
        )
    _user(
        area,
        "chef.bistand",
        "Gunilla",
        "Östlund",
        assessment,
        Role.MANAGER,
        "Enhetschef",
        "08-555 202 01",
    )
    _user(
        area,
        "admin.bistand",
        "Mats",
        "Häger",
        assessment,
        Role.ORG_ADMIN,
        "Systemförvaltare",
        "08-555 202 02",
    )
    prefixes = ["kommunal", "omsorgshuset", "tryggahander"]
    people = [
        [("Anna", "Svärd"), ("Jenny", "Åkerlund"), ("Mohammed", "Ali"), ("Eva", "Sundén")],
        [("Linnea", "Fröberg"), ("Ahmed", "Nour"), ("Stina", "Höglund")],
        [("Petra", "Ljungqvist"), ("Olle", "Bäck"), ("Marjatta", "Väisänen")],
    ]
    for org, prefix, names in zip(area.home_help, prefixes, people, strict=True):
        phone_base = org.phone[:-2]
        first, last = names[0]
        _user(
            area,
            f"samordnare.{prefix}",
            first,
            last,
            org,
            Role.HOME_HELP_COORDINATOR,
            "Samordnare",
            f"{phone_base}10",
        )
        for index, (first, last) in enumerate(names[1:], start=1):
            _user(
                area,
                f"kontakt{index}.{prefix}",
                first,
                last,
                org,
                Role.CONTACT_PERSON,
                "Kontaktperson",
                f"{phone_base}2{index}",
            )
        _user(
            area,
            f"chef.{prefix}",
            "Chef",
            org.name.split()[0],
            org,
            Role.MANAGER,
            "Verksamhetschef",
            f"{phone_base}01",
        )
    # One admin for the municipal provider; private providers administer through their chef.
    _user(
        area,
        "admin.kommunal",
        "Rolf",
        "Engström",
        area.home_help[0],
        Role.ORG_ADMIN,
        "Systemförvaltare",
        "08-555 303 02",
    )


def _pnr(born: dt.date, serial: int) -> str:
    nine = f"{born:%y%m%d}{serial % 1000 or 1:03d}"  # birth number 000 is never issued
    return f"{born.year // 100:02d}{with_check_digit(nine)}"


def _persons(area: DemoArea, count: int, rng: random.Random) -> None:
    today = timezone.localdate()
    hhc = area.home_health_care
    nurses = area.staff[f"{hhc.kind}:{Role.NURSE}"]
    physician = area.staff[f"{hhc.kind}:{Role.PHYSICIAN}"][0]
    assessors = area.staff[f"{area.assessment.kind}:{Role.NEEDS_ASSESSOR}"]
    for index in range(count):
        female = index % 3 != 0
        first = rng.choice(FIRST_NAMES_F if female else FIRST_NAMES_M)
        last = LAST_NAMES[index % len(LAST_NAMES)]
        born = dt.date(1928 + index % 30, 1 + index % 12, 1 + (index * 7) % 28)
        person = Person.objects.create(
            first_name=first,
            last_name=last,
            personnummer=_pnr(born, 200 + index * 2 + (0 if female else 1)),
            date_of_birth=born,
            street_address=f"{STREETS[index % len(STREETS)]} {1 + index % 40}",
            postal_code=f"136 {40 + index % 9}",
            city="Sjöstad",
            access_notes=f"Portkod {1000 + index * 37 % 9000}. Nyckel i nyckelgömma vid dörren."
            if index % 2 == 0
            else "Ring på, det tar en stund innan hen öppnar.",
            phone=f"08-777 {100 + index:03d} {10 + index % 90:02d}",
            hearing_vision_notes="Hör dåligt på vänster öra; tala tydligt."
            if index % 4 == 0
            else "",
            interpreter_needed=index % 13 == 5,
            preferred_language="finska" if index % 13 == 5 else "svenska",
            representative_kind=Person.RepresentativeKind.GOD_MAN if index % 9 == 4 else "",
            representative_name="Bertil Sandgren" if index % 9 == 4 else "",
            representative_phone="070-111 22 33" if index % 9 == 4 else "",
        )
        provider = area.home_help[index % len(area.home_help)]
        prefix_staff = area.staff
        since = today - dt.timedelta(days=90 + index * 11)
        # Most persons are served by both: a few are not yet, to show the eligibility hint.
        entries = [
            CareTeamEntry(person=person, organisation=hhc, start_date=since),
            CareTeamEntry(person=person, organisation=hhc, member=nurses[index % len(nurses)],
                          role=Role.NURSE, start_date=since),
            CareTeamEntry(person=person, organisation=hhc, member=physician, role=Role.PHYSICIAN,
                          start_date=since),
            CareTeamEntry(person=person, organisation=area.assessment,
                          member=assessors[index % len(assessors)], role=Role.NEEDS_ASSESSOR,
                          start_date=since),
        ]  # fmt: skip
        if index % 10 != 7:
            coordinator = prefix_staff[f"{provider.kind}:{Role.HOME_HELP_COORDINATOR}"]
            provider_coordinator = next(
                u for u in coordinator if u.memberships.filter(organisation=provider).exists()
            )
            contacts = [
                m.user
                for m in Membership.objects.filter(organisation=provider, role=Role.CONTACT_PERSON)
                .select_related("user")
                .order_by("pk")
            ]
            entries += [
                CareTeamEntry(person=person, organisation=provider, start_date=since),
                CareTeamEntry(person=person, organisation=provider, member=provider_coordinator,
                              role=Role.HOME_HELP_COORDINATOR, start_date=since),
                CareTeamEntry(person=person, organisation=provider,
                              member=contacts[index % len(contacts)], role=Role.CONTACT_PERSON,
                              start_date=since),
            ]  # fmt: skip
        CareTeamEntry.objects.bulk_create(entries)
        relative_first = rng.choice(FIRST_NAMES_F + FIRST_NAMES_M)
        Relative.objects.create(
            person=person,
            name=f"{relative_first} {last}",
            relation=RELATIONS[index % len(RELATIONS)],
            phone=f"070-{200 + index:03d} {10 + index % 90:02d} {20 + index % 70:02d}",
            email=f"anhorig{index + 1}@demo.vom.example",
            wants_involved=index % 6 != 3,
        )
        if index % 3 == 0:
            Relative.objects.create(
                person=person,
                name=f"{rng.choice(FIRST_NAMES_F)} {rng.choice(LAST_NAMES)}",
                relation="granne",
                phone=f"073-{300 + index:03d} 44 55",
                wants_involved=index % 2 == 0,
            )
        area.persons.append(person)


def area_exists() -> bool:
    return Organisation.objects.filter(name=DEMO_MARKER_ORG).exists()


def load_area(persons: int = 40, seed: int = 2008) -> DemoArea:
    rng = random.Random(seed)
    with transaction.atomic():
        hhc, assessment, providers = _organisations()
        area = DemoArea(home_health_care=hhc, assessment=assessment, home_help=providers)
        _staff(area)
        _persons(area, persons, rng)
    return area


def demo_logins() -> list[tuple[str, str, str]]:
    rows = (
        Membership.objects.filter(user__email__endswith="@demo.vom.example")
        .select_related("user", "organisation")
        .order_by("organisation__name", "role", "user__username")
    )
    return [(m.user.username, m.get_role_display(), m.organisation.name) for m in rows]
