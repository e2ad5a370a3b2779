#!/usr/bin/env python3
"""Writes FEEDS RSS feeds of ENTRIES items each, and one article page per
item, under ROOT/feeds and ROOT/pages. Feed i is /feeds/f{i}.xml; its items
link to /pages/p{k}.html. Every story reports one of five positions (the
first report of each moves the ledger, the others repeat it), wrapped in about
1 KB of ordinary copy that differs from story to story.

    gen.py ROOT FEEDS ENTRIES
"""
import hashlib
import os
import random
import sys

root, feeds, entries = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
os.makedirs(os.path.join(root, "feeds"), exist_ok=True)
os.makedirs(os.path.join(root, "pages"), exist_ok=True)
actors = ["Kremlin spokesman Dmitry Peskov", "Prime Minister Giorgia Meloni",
          "Chancellor Friedrich Merz", "President Volodymyr Zelensky",
          "Defence Secretary John Healey"]
lines = ["said on Monday that Moscow could accept peacekeepers in Ukraine only if they came from neutral countries.",
         "said Italy would not send its soldiers to Ukraine as part of any post-war mission.",
         "said Germany backs the multinational force for Ukraine.",
         "said Ukraine would not withdraw from the parts of Donetsk region it still controls.",
         "said British troops would deploy to Ukraine only if a US backstop is agreed."]
# ordinary copy: sentences drawn word by word from a plain vocabulary, so
# stories share no more phrasing than unrelated news reports do
words = """
account action advice agency agreement air amount analysis answer area army
article attack attention authority average balance bank base basis battle
beginning behaviour belief benefit bill board body border branch budget
building business campaign capital card care case cash cause centre century
chance change charge chart choice church circle citizen city claim class
client climate club coast code colour column command comment commission
committee community company comparison competition concern condition
conference conflict congress connection consequence contract control cost
council country county couple course court cover crime crisis crowd culture
currency customer damage data date deal death debate debt decade decision
defence deficit degree delay demand department deposit design detail
development device difference direction director discussion disease
distance district doctor document dollar doubt draft drive duty economy
edition education effect effort election element emergency employee energy
engine environment equipment error estimate event evidence exchange
exercise experience expert export factor factory failure family farm fear
feature figure film finance fire firm flight floor focus food force forest
form fortune frame freedom friend front fuel fund future gain game garden
gas generation goal gold government grant ground group growth guard guest
harbour harvest health hearing heart heat history holiday home hospital
hotel hour house household idea image impact import income increase index
industry inflation influence information injury inquiry institute interest
investment island issue job journey judge jury key kingdom kitchen labour
lake land language law lawyer leader league lease lecture letter level
library licence limit line list loan location loss machine magazine
majority manager market material matter meeting member memory message
method middle mile minister minute mission model moment money month
morning motion mountain movement museum music nation network news night
notice number object offer office officer oil opinion option order
organisation output owner package page pair panel paper parent park party
passenger patient pattern payment peace pension period permit person
picture plan plant platform player pocket police policy pool port position
post pound power practice pressure price prison problem process product
profit programme project property proposal protest province public quality
quarter question race radio rail range rate reaction reason record region
relation release report request research reserve resource response result
review right risk river road role room rule safety salary sale sample
scale scheme school science screen season seat secret section sector
security seed series service session settlement share shop shore side
signal site size skill society soil source space speech sport spring staff
stage standard station status steel stock store strategy street strength
structure student study style subject summer supply support surface survey
system table target task tax teacher team technology television term test
theatre theory threat ticket time title total tour town track trade
traffic training transport treaty trend trial trip trust truth union unit
university valley value vehicle version victory view village visit voice
volume vote wage wall water wave wealth weather week weight welfare west
wheel window winter witness woman wood work worker world year youth
""".split()
joiners = ["and", "of", "for", "with", "on", "after", "before", "near", "under", "over",
           "the", "a", "its", "their", "new", "old", "local", "national", "early", "late"]


def paragraph(k):
    rng = random.Random(hashlib.blake2b(b"%d" % k, digest_size=8).digest())
    out = []
    for _ in range(8):
        n = rng.randint(10, 18)
        ws = [rng.choice(words) if i % 3 else rng.choice(joiners) for i in range(n)]
        ws[0] = ws[0].capitalize()
        out.append(" ".join(ws) + ".")
    return " ".join(out)


for f in range(feeds):
    items = []
    for e in range(entries):
        k = f * entries + e
        name = f"p{k}.html"
        filler = paragraph(k)
        body = f"<p>{actors[k % 5]} {lines[k % 5]}</p><p>{filler}</p><p>Story {k}.</p>"
        with open(os.path.join(root, "pages", name), "w") as fh:
            fh.write("<!DOCTYPE html><html><head><title>Story %d</title></head><body>"
                     "<nav>Home</nav><article><h1>Story %d on Ukraine guarantees</h1>%s"
                     "</article><footer>(c) Demo</footer></body></html>" % (k, k, body))
        items.append(f"<item><title>Story {k}</title><link>/pages/{name}</link>"
                     f"<guid isPermaLink=\"false\">s{k}</guid>"
                     f"<description>Story {k} on Ukraine guarantees</description></item>")
    with open(os.path.join(root, "feeds", f"f{f}.xml"), "w") as fh:
        fh.write("<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>Feed %d</title>"
                 "<link>http://127.0.0.1/</link><description>load</description>%s</channel></rss>"
                 % (f, "".join(items)))
