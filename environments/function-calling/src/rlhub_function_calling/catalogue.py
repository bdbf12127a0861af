"""The function catalogue: realistic tool signatures (stubs: only their schemas matter) and, for each, a
generator of user requests whose correct call has exactly one set of argument values.

A request states every value the call needs, in words a user would use; the schema's descriptions say
the canonical form (ISO dates, 24-hour times, currency and language codes, enum values), so mapping
"March 3, 2026 at 2:30 pm" to `"2026-03-03"`, `"14:30"` is part of the skill, never a guess.
"""

from __future__ import annotations

import datetime
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, get_args

from rlhub import ToolSpec
from rlhub.core.tools import tool_spec

Request = tuple[str, dict[str, Any]]
"""A user sentence and the arguments of the one call that fulfils it."""

CITIES = [
    "Paris", "Rome", "Tokyo", "Nairobi", "Lima", "Oslo", "Toronto", "Sydney", "Cairo", "Berlin",
    "Madrid", "Seoul", "Mumbai", "Chicago", "Lisbon", "Vienna", "Dublin", "Bangkok", "Prague", "Santiago",
]  # fmt: skip
AIRPORTS = [
    ("Boston", "BOS"), ("Denver", "DEN"), ("Seattle", "SEA"), ("Chicago", "ORD"), ("Atlanta", "ATL"),
    ("Miami", "MIA"), ("London", "LHR"), ("Paris", "CDG"), ("Frankfurt", "FRA"), ("Tokyo", "HND"),
    ("Dubai", "DXB"), ("Singapore", "SIN"), ("Madrid", "MAD"), ("Toronto", "YYZ"),
]  # fmt: skip
CURRENCIES = [
    ("US dollars", "USD"), ("euros", "EUR"), ("British pounds", "GBP"), ("Japanese yen", "JPY"),
    ("Swiss francs", "CHF"), ("Canadian dollars", "CAD"), ("Australian dollars", "AUD"),
    ("Indian rupees", "INR"), ("Mexican pesos", "MXN"), ("Swedish kronor", "SEK"),
]  # fmt: skip
UNIT_PAIRS = [
    ("kilometers", "miles"), ("meters", "feet"), ("kilograms", "pounds"), ("celsius", "fahrenheit"),
    ("liters", "gallons"),
]  # fmt: skip
UNIT_WORDS = {"celsius": "degrees Celsius", "fahrenheit": "degrees Fahrenheit"}
LANGUAGES = [
    ("French", "fr"), ("German", "de"), ("Spanish", "es"), ("Italian", "it"), ("Japanese", "ja"),
    ("Portuguese", "pt"), ("Dutch", "nl"), ("Korean", "ko"),
]  # fmt: skip
PHRASES = [
    "Where is the train station?", "Thank you for your help.", "The meeting starts at noon.",
    "I would like a cup of coffee.", "How much does this cost?", "See you tomorrow morning.",
]  # fmt: skip
EVENTS = [
    "Team standup", "Dentist appointment", "Lunch with Priya", "Quarterly review", "Yoga class",
    "Call with the bank", "Project kickoff", "Parent-teacher meeting",
]  # fmt: skip
REMINDERS = [
    "Pay the electricity bill", "Water the plants", "Call Mom", "Renew the passport",
    "Pick up the dry cleaning", "Submit the expense report",
]  # fmt: skip
TODOS = ["Buy printer ink", "Book a car service", "Return the library books", "Update the CV", "Fix the bike light"]
SONGS = [
    ("Paper Lanterns", "The Violet Hours"), ("Northbound", "Mira Solen"), ("Glass Harbor", "Kite Engine"),
    ("Slow Orbit", "Dana Reyes"), ("Copper Rain", "The Lowlands"), ("Midnight Arcade", "Juno Park"),
]  # fmt: skip
TICKERS = ["AAPL", "MSFT", "NVDA", "AMZN", "TSLA", "GOOGL", "IBM", "ORCL"]
PLACES = [
    "Central Station", "City Museum", "Riverside Park", "Harbor Bridge", "Old Town Square", "North Library",
    "Union Market", "Westfield Mall",
]  # fmt: skip
MODES = {"driving": "by car", "walking": "on foot", "transit": "by public transport", "cycling": "by bike"}
PEOPLE = ["anna.kowalski", "ben.okafor", "chen.wei", "dana.levi", "emil.strand", "farah.haddad"]
SUBJECTS = ["Budget draft", "Friday offsite", "Invoice 4471", "Slides for Monday", "Holiday rota"]
BODIES = [
    "Please review it by Thursday.", "Running ten minutes late.", "The file is attached.",
    "Can we move this to next week?", "Thanks, looks good to me.",
]  # fmt: skip
QUERIES = [
    "cheap flights to Iceland in winter", "how to repot a fiddle leaf fig", "best budget mechanical keyboards",
    "history of the Eiffel Tower", "sourdough starter not rising", "beginner marathon training plan",
]  # fmt: skip
WORDS = ["ephemeral", "laconic", "quixotic", "serendipity", "ubiquitous", "pernicious"]
Cuisine = Literal["italian", "japanese", "mexican", "indian", "thai", "french", "chinese", "greek"]
CUISINES = list(get_args(Cuisine))
Topic = Literal["technology", "sports", "business", "science", "health", "politics"]
TOPICS = list(get_args(Topic))
Unit = Literal[
    "kilometers", "miles", "meters", "feet", "kilograms", "pounds", "celsius", "fahrenheit", "liters", "gallons"
]
NUMBER_WORDS = ["zero", "one", "two", "three", "four", "five", "six"]

# --- the functions (stubs: the environment never runs them) --------------------------------------


def get_weather(city: str, unit: Literal["celsius", "fahrenheit"] = "celsius") -> None:
    """Current weather conditions in a city.

    Args:
        city: city name, e.g. "Paris"
        unit: temperature unit
    """


def get_forecast(city: str, days: int) -> None:
    """Daily weather forecast for the coming days.

    Args:
        city: city name, e.g. "Paris"
        days: number of days to forecast, 1-14
    """


def convert_currency(amount: float, from_currency: str, to_currency: str) -> None:
    """Convert an amount of money between currencies at today's rate.

    Args:
        amount: the amount to convert
        from_currency: three-letter ISO 4217 code, e.g. "USD"
        to_currency: three-letter ISO 4217 code, e.g. "EUR"
    """


def get_exchange_rate(base: str, quote: str) -> None:
    """Today's exchange rate: how many units of `quote` one unit of `base` buys.

    Args:
        base: three-letter ISO 4217 code, e.g. "USD"
        quote: three-letter ISO 4217 code, e.g. "EUR"
    """


def convert_units(value: float, from_unit: Unit, to_unit: Unit) -> None:
    """Convert a measurement between units of length, mass, temperature or volume.

    Args:
        value: the quantity to convert
        from_unit: unit of `value`
        to_unit: unit to convert to
    """


def create_calendar_event(title: str, date: str, start_time: str, duration_minutes: int) -> None:
    """Add an event to the user's calendar.

    Args:
        title: event title
        date: date as YYYY-MM-DD
        start_time: 24-hour time as HH:MM
        duration_minutes: length of the event in minutes
    """


def set_reminder(message: str, date: str, time: str) -> None:
    """Set a reminder that notifies the user at a given date and time.

    Args:
        message: what to remind the user of
        date: date as YYYY-MM-DD
        time: 24-hour time as HH:MM
    """


def set_timer(minutes: int) -> None:
    """Start a countdown timer.

    Args:
        minutes: timer length in minutes
    """


def add_todo(task: str, due_date: str) -> None:
    """Add an item to the user's to-do list.

    Args:
        task: the to-do item
        due_date: due date as YYYY-MM-DD
    """


def search_flights(origin: str, destination: str, date: str) -> None:
    """Search one-way flights.

    Args:
        origin: departure airport, three-letter IATA code, e.g. "BOS"
        destination: arrival airport, three-letter IATA code
        date: departure date as YYYY-MM-DD
    """


def book_hotel(city: str, check_in: str, check_out: str, guests: int) -> None:
    """Book a hotel room.

    Args:
        city: city name
        check_in: check-in date as YYYY-MM-DD
        check_out: check-out date as YYYY-MM-DD
        guests: number of guests
    """


def send_email(to: str, subject: str, body: str) -> None:
    """Send an email from the user's account.

    Args:
        to: recipient email address
        subject: subject line
        body: message text
    """


def send_sms(phone_number: str, message: str) -> None:
    """Send a text message.

    Args:
        phone_number: number in international format, e.g. "+14155550123"
        message: message text
    """


def get_stock_price(symbol: str) -> None:
    """Latest trading price of a stock.

    Args:
        symbol: ticker symbol, e.g. "AAPL"
    """


def translate_text(text: str, target_language: str) -> None:
    """Translate text into another language.

    Args:
        text: the text to translate
        target_language: two-letter ISO 639-1 code, e.g. "de"
    """


def calculate_tip(bill_amount: float, tip_percent: float) -> None:
    """Tip amount for a restaurant bill.

    Args:
        bill_amount: the bill in dollars
        tip_percent: tip as a percentage, e.g. 15
    """


def get_local_time(city: str) -> None:
    """Current local time in a city.

    Args:
        city: city name
    """


def find_restaurants(city: str, cuisine: Cuisine, max_results: int = 5) -> None:
    """Find restaurants by cuisine in a city.

    Args:
        city: city name
        cuisine: type of food
        max_results: how many restaurants to list
    """


def get_directions(
    origin: str, destination: str, mode: Literal["driving", "walking", "transit", "cycling"] = "driving"
) -> None:
    """Route between two places.

    Args:
        origin: starting place
        destination: place to go to
        mode: how to travel
    """


def play_music(song: str, artist: str) -> None:
    """Play a song on the user's speaker.

    Args:
        song: song title
        artist: performing artist
    """


def web_search(query: str) -> None:
    """Search the web and return the top results.

    Args:
        query: search terms
    """


def get_news(topic: Topic, count: int = 5) -> None:
    """Latest news headlines on a topic.

    Args:
        topic: news section
        count: number of headlines
    """


def define_word(word: str) -> None:
    """Dictionary definition of an English word.

    Args:
        word: the word to define
    """


def track_package(tracking_number: str) -> None:
    """Delivery status of a parcel.

    Args:
        tracking_number: the carrier's tracking number
    """


# --- request generators ---------------------------------------------------------------------------


def _date(rng: random.Random) -> datetime.date:
    return datetime.date(2026, 1, 1) + datetime.timedelta(days=rng.randint(0, 720))


def _say_date(day: datetime.date) -> str:
    return f"{day:%B} {day.day}, {day.year}"


def _time(rng: random.Random) -> tuple[str, str]:
    """A time of day: how a user says it ("2:30 pm") and its 24-hour form ("14:30")."""
    hour, minute = rng.randint(7, 21), rng.choice([0, 0, 15, 30, 45])
    twelve = hour - 12 if hour > 12 else hour
    return f"{twelve}:{minute:02d} {'pm' if hour >= 12 else 'am'}", f"{hour:02d}:{minute:02d}"


def _money(rng: random.Random) -> float:
    return rng.choice([rng.randint(5, 500), rng.randint(500, 50000) / 100])


def _weather(rng: random.Random) -> Request:
    city = rng.choice(CITIES)
    if rng.random() < 0.5:
        return f"What's the weather like in {city} right now?", {"city": city, "unit": "celsius"}
    unit = rng.choice(["celsius", "fahrenheit"])
    return f"What is the current temperature in {city}, in {unit.capitalize()}?", {"city": city, "unit": unit}


def _forecast(rng: random.Random) -> Request:
    city, days = rng.choice(CITIES), rng.randint(2, 10)
    text = rng.choice(
        [
            f"Give me the {days}-day forecast for {city}.",
            f"What will the weather be in {city} over the next {days} days?",
        ]
    )
    return text, {"city": city, "days": days}


def _convert_currency(rng: random.Random) -> Request:
    (name_a, code_a), (name_b, code_b) = rng.sample(CURRENCIES, 2)
    amount = _money(rng)
    return f"How much is {amount:g} {name_a} in {name_b}?", {
        "amount": amount,
        "from_currency": code_a,
        "to_currency": code_b,
    }


def _exchange_rate(rng: random.Random) -> Request:
    (name_a, code_a), (name_b, code_b) = rng.sample(CURRENCIES, 2)
    return f"What's today's exchange rate from {name_a} to {name_b}?", {"base": code_a, "quote": code_b}


def _convert_units(rng: random.Random) -> Request:
    pair = list(rng.choice(UNIT_PAIRS))
    rng.shuffle(pair)
    value = rng.choice([rng.randint(1, 300), rng.randint(10, 2000) / 10])
    a, b = (UNIT_WORDS.get(u, u) for u in pair)
    return f"Convert {value:g} {a} to {b}.", {"value": value, "from_unit": pair[0], "to_unit": pair[1]}


def _calendar(rng: random.Random) -> Request:
    title, day, (said, time) = rng.choice(EVENTS), _date(rng), _time(rng)
    minutes = rng.choice([30, 45, 60, 90, 120])
    length = {60: "one hour", 120: "two hours"}.get(minutes, f"{minutes} minutes")
    text = f'Put "{title}" on my calendar on {_say_date(day)} at {said}, for {length}.'
    return text, {"title": title, "date": day.isoformat(), "start_time": time, "duration_minutes": minutes}


def _reminder(rng: random.Random) -> Request:
    message, day, (said, time) = rng.choice(REMINDERS), _date(rng), _time(rng)
    text = f'Set a reminder "{message}" for {_say_date(day)} at {said}.'
    return text, {"message": message, "date": day.isoformat(), "time": time}


def _timer(rng: random.Random) -> Request:
    minutes = rng.choice([rng.randint(1, 59), 60 * rng.randint(1, 3), 60 + rng.choice([15, 30, 45])])
    hours, rest = divmod(minutes, 60)
    said = " and ".join(
        part
        for part in (
            f"{hours} hour{'s' * (hours > 1)}" if hours else "",
            f"{rest} minute{'s' * (rest > 1)}" if rest else "",
        )
        if part
    )
    return f"Set a timer for {said}.", {"minutes": minutes}


def _todo(rng: random.Random) -> Request:
    task, day = rng.choice(TODOS), _date(rng)
    return f'Add "{task}" to my to-do list, due {_say_date(day)}.', {"task": task, "due_date": day.isoformat()}


def _flights(rng: random.Random) -> Request:
    (city_a, code_a), (city_b, code_b) = rng.sample(AIRPORTS, 2)
    day = _date(rng)
    text = f"Find me flights from {city_a} ({code_a}) to {city_b} ({code_b}) on {_say_date(day)}."
    return text, {"origin": code_a, "destination": code_b, "date": day.isoformat()}


def _hotel(rng: random.Random) -> Request:
    city, start, nights, guests = rng.choice(CITIES), _date(rng), rng.randint(1, 7), rng.randint(1, 4)
    end = start + datetime.timedelta(days=nights)
    who = f"{NUMBER_WORDS[guests]} guest{'s' * (guests > 1)}"
    if rng.random() < 0.5:
        stay = f"from {_say_date(start)} to {_say_date(end)}"
    else:
        count = NUMBER_WORDS[nights] if nights < len(NUMBER_WORDS) else str(nights)
        stay = f"for {count} night{'s' * (nights > 1)} starting {_say_date(start)}"
    text = f"Book a hotel in {city} for {who} {stay}."
    return text, {"city": city, "check_in": start.isoformat(), "check_out": end.isoformat(), "guests": guests}


def _email(rng: random.Random) -> Request:
    to, subject, body = f"{rng.choice(PEOPLE)}@example.com", rng.choice(SUBJECTS), rng.choice(BODIES)
    text = f'Email {to} with the subject "{subject}" and the message "{body}"'
    return text, {"to": to, "subject": subject, "body": body}


def _sms(rng: random.Random) -> Request:
    number, message = f"+1415555{rng.randint(0, 9999):04d}", rng.choice(BODIES)
    return f'Text {number}: "{message}"', {"phone_number": number, "message": message}


def _stock(rng: random.Random) -> Request:
    symbol = rng.choice(TICKERS)
    return f"What is {symbol} stock trading at right now?", {"symbol": symbol}


def _translate(rng: random.Random) -> Request:
    phrase, (language, code) = rng.choice(PHRASES), rng.choice(LANGUAGES)
    return f'Translate "{phrase}" into {language}.', {"text": phrase, "target_language": code}


def _tip(rng: random.Random) -> Request:
    bill, percent = rng.randint(1500, 25000) / 100, rng.choice([10, 12, 15, 18, 20, 25])
    article = "an" if str(percent).startswith(("8", "11", "18")) else "a"
    return f"How much is {article} {percent}% tip on a ${bill:.2f} bill?", {"bill_amount": bill, "tip_percent": percent}


def _local_time(rng: random.Random) -> Request:
    city = rng.choice(CITIES)
    return f"What time is it in {city} right now?", {"city": city}


def _restaurants(rng: random.Random) -> Request:
    city, cuisine = rng.choice(CITIES), rng.choice(CUISINES)
    if rng.random() < 0.5:
        return f"Find some {cuisine.capitalize()} restaurants in {city}.", {
            "city": city,
            "cuisine": cuisine,
            "max_results": 5,
        }
    count = rng.randint(2, 10)
    text = f"List {count} {cuisine.capitalize()} restaurants in {city}."
    return text, {"city": city, "cuisine": cuisine, "max_results": count}


def _directions(rng: random.Random) -> Request:
    origin, destination = rng.sample(PLACES, 2)
    mode = rng.choice(sorted(MODES))
    return f"How do I get from {origin} to {destination} {MODES[mode]}?", {
        "origin": origin,
        "destination": destination,
        "mode": mode,
    }


def _music(rng: random.Random) -> Request:
    song, artist = rng.choice(SONGS)
    return f'Play "{song}" by {artist}.', {"song": song, "artist": artist}


def _search(rng: random.Random) -> Request:
    query = rng.choice(QUERIES)
    return f'Search the web for "{query}".', {"query": query}


def _news(rng: random.Random) -> Request:
    topic = rng.choice(TOPICS)
    if rng.random() < 0.5:
        return f"What's the latest {topic} news?", {"topic": topic, "count": 5}
    count = rng.randint(2, 10)
    return f"Show me the top {count} {topic} headlines.", {"topic": topic, "count": count}


def _define(rng: random.Random) -> Request:
    word = rng.choice(WORDS)
    return f'Look up the dictionary definition of "{word}".', {"word": word}


def _track(rng: random.Random) -> Request:
    number = "1Z" + "".join(rng.choice("0123456789ABCDEFGHJKLMNPRTVWXY") for _ in range(12))
    return f"Where is my parcel? The tracking number is {number}.", {"tracking_number": number}


@dataclass(frozen=True)
class Function:
    """One catalogue entry: its schema, a request generator, and the group of functions a request for
    it could be confused with (never all absent from a no-call task's tools, see `env`)."""

    spec: ToolSpec
    request: Callable[[random.Random], Request]
    group: str


def _entry(stub: Callable[..., None], request: Callable[[random.Random], Request], group: str) -> Function:
    return Function(tool_spec(stub), request, group)


CATALOGUE: dict[str, Function] = {
    f.spec.name: f
    for f in [
        _entry(get_weather, _weather, "weather"),
        _entry(get_forecast, _forecast, "weather"),
        _entry(convert_currency, _convert_currency, "money"),
        _entry(get_exchange_rate, _exchange_rate, "money"),
        _entry(convert_units, _convert_units, "units"),
        _entry(create_calendar_event, _calendar, "schedule"),
        _entry(set_reminder, _reminder, "schedule"),
        _entry(set_timer, _timer, "schedule"),
        _entry(add_todo, _todo, "schedule"),
        _entry(search_flights, _flights, "travel"),
        _entry(book_hotel, _hotel, "travel"),
        _entry(send_email, _email, "message"),
        _entry(send_sms, _sms, "message"),
        _entry(get_stock_price, _stock, "money"),
        _entry(translate_text, _translate, "language"),
        _entry(calculate_tip, _tip, "money"),
        _entry(get_local_time, _local_time, "time"),
        _entry(find_restaurants, _restaurants, "places"),
        _entry(get_directions, _directions, "places"),
        _entry(play_music, _music, "media"),
        _entry(web_search, _search, "general"),
        _entry(get_news, _news, "general"),
        _entry(define_word, _define, "general"),
        _entry(track_package, _track, "parcel"),
    ]
}
"""Every function by name. The `general` group can serve almost any request, so it is never offered
in a task whose right answer is no call."""

NO_TOOL_REQUESTS = [
    'Rewrite this sentence in the passive voice: "{name} painted the fence."',
    "Write a two-line poem about {thing}.",
    "Tell me a short joke about {thing}.",
    "Suggest a name for a pet {animal}.",
    'Fix the grammar in this sentence: "{name} and me goes to the market every {day}."',
    "Give me a word that rhymes with {thing}.",
]
THINGS = [
    "autumn", "coffee", "the sea", "bicycles", "rain", "mountains", "libraries", "trains", "snow", "gardens",
    "the moon", "breakfast",
]  # fmt: skip
FILLERS = {
    "name": ["Maria", "Tom", "Aisha", "Lars", "Kenji", "Olu", "Ines", "Ravi"],
    "thing": THINGS,
    "animal": ["hamster", "parrot", "tortoise", "goldfish"],
    "day": ["Monday", "Saturday", "morning"],
}


def no_tool_request(rng: random.Random) -> str:
    """A request that no catalogue function serves: the right reply is text."""
    template = rng.choice(NO_TOOL_REQUESTS)
    return template.format(**{key: rng.choice(values) for key, values in FILLERS.items()})


def defaults(name: str) -> dict[str, Any]:
    """Default argument values of a catalogue function (empty for unknown names)."""
    function = CATALOGUE.get(name)
    if function is None:
        return {}
    properties = function.spec.parameters["properties"]
    return {key: schema["default"] for key, schema in properties.items() if "default" in schema}


__all__ = ["CATALOGUE", "Function", "Request", "defaults", "no_tool_request"]
