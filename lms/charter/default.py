"""The charter Relais proposes to an organization that has none yet: a starting text, in
French and English, that admins adapt before publishing version 1.

Written for Relais from the principles the source articles give for an employee-advocacy
programme: speak in one's own name, say who one works for, keep confidential what is, stay
respectful, know what to do when something goes wrong, and know whom to ask.
"""

from __future__ import annotations

BODY_FR = """\
## Pourquoi cette charte

Vous êtes libre de parler de votre métier et de votre entreprise sur vos réseaux sociaux
personnels. Cette charte dit simplement comment le faire sans risque, pour vous comme pour
l'entreprise. Partager reste toujours volontaire.

## 1. Je parle en mon nom

- Je publie avec mes propres mots : j'ajoute mon point de vue plutôt que de recopier un
  message tout fait.
- Je ne m'exprime pas au nom de l'entreprise, sauf si c'est mon rôle. En cas de doute,
  j'écris « mon avis n'engage que moi ».

## 2. Je dis pour qui je travaille

- Quand je parle d'un produit, d'un service ou d'une offre d'emploi de l'entreprise, je
  précise que j'y travaille (par exemple avec une mention « #collaborateur » ou dans mon
  profil).
- Je ne me fais pas passer pour un client ou un simple observateur.

## 3. Je respecte la confidentialité

- Je ne publie ni chiffres non publics, ni projets non annoncés, ni informations sur les
  clients, les candidats ou les collègues.
- Je demande l'accord des personnes avant de publier leur photo ou leur nom.
- Je respecte le droit d'auteur : je cite mes sources et je partage plutôt que de copier.

## 4. Je reste respectueux

- Je discute des idées, jamais des personnes ; je ne réponds pas à chaud à une provocation.
- Je ne dénigre ni les concurrents, ni les clients, ni les collègues.
- Mes publications respectent la loi (vie privée, diffamation, discrimination).

## 5. Si quelque chose tourne mal

- Je ne supprime pas en urgence et je ne réponds pas seul à une critique qui prend de
  l'ampleur : je préviens tout de suite l'équipe communication.
- Si j'ai publié une erreur, je la corrige de façon visible et je m'en excuse simplement.
- Un doute sur un message reçu ou une question de journaliste : je transmets, je ne réponds
  pas moi-même.

## 6. À qui demander

- Une question sur ce qu'on peut partager : l'équipe communication ou votre référent
  ambassadeur.
- Une question sur vos droits ou vos données : les ressources humaines.
- En cas de crise, la règle est simple : **on prévient d'abord, on publie ensuite**.
"""

BODY_EN = """\
## Why this charter

You are free to talk about your job and your company on your personal social-media
accounts. This charter simply says how to do it safely, for you and for the company. Sharing
is always voluntary.

## 1. I speak in my own name

- I post in my own words: I add my point of view rather than copy a ready-made message.
- I do not speak on behalf of the company unless that is my role. When in doubt, I write
  "my views are my own".

## 2. I say whom I work for

- When I mention one of the company's products, services or job offers, I make clear that I
  work there (for instance with an "#employee" mention or in my profile).
- I never pose as a customer or a mere onlooker.

## 3. I keep confidential what is confidential

- I publish no figures that are not public, no unannounced projects, no information about
  customers, candidates or colleagues.
- I ask people before posting their picture or their name.
- I respect copyright: I credit my sources and share rather than copy.

## 4. I stay respectful

- I discuss ideas, never people; I do not answer a provocation in the heat of the moment.
- I do not disparage competitors, customers or colleagues.
- My posts respect the law (privacy, defamation, discrimination).

## 5. When something goes wrong

- I do not hastily delete, nor answer alone a criticism that is spreading: I tell the
  communication team at once.
- If I posted a mistake, I correct it visibly and simply apologise.
- A doubtful message or a journalist's question: I pass it on, I do not answer myself.

## 6. Whom to ask

- What may be shared: the communication team or your ambassador champion.
- Your rights or your data: human resources.
- In a crisis the rule is simple: **warn first, post later**.
"""
