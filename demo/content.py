"""Texts of the demo site's documents, written for Consentry's demo shop.

A fictional shop ("Consentry demo shop") run by a fictional operator. Nothing here is
legal advice or a template for a real business.
"""

OPERATOR_EN = "Demo Shop Ltd, 1 Example Street, Exampletown"


OPERATOR_RU = "ООО «Демо Магазин», г. Примерск, ул. Примерная, д. 1"


PRIVACY_EN_V1 = """## Who we are

Demo Shop Ltd (1 Example Street, Exampletown) runs this shop and decides how your personal data is used.
You can reach our data protection officer at privacy@demo-shop.example.

## What we collect

- **Orders:** your name, delivery address, email and what you bought, to deliver your order.
- **Your account:** your email and password hash, if you create one.
- **Cookies and similar storage:** only with your consent, except the few the shop needs to work.
  The [cookie policy](../cookie-policy/) lists them.

## Why, and on what basis

| Purpose | Legal basis |
|---|---|
| Delivering orders | Contract |
| Keeping accounting records | Legal obligation |
| Analytics and marketing cookies | Your consent, which you can withdraw at any time |

## How long we keep it

Order records: 6 years for accounting. Account data: until you delete your account.
Records of your cookie choices: 3 years, so we can show what you chose.

## Your rights

You can ask to see, correct, delete or take away your data, object to its use, or withdraw consent.
Write to privacy@demo-shop.example; we answer within one month.
You may also complain to your data protection authority.
"""


PRIVACY_EN_V2 = PRIVACY_EN_V1.replace(
    "Write to privacy@demo-shop.example; we answer within one month.",
    "Write to privacy@demo-shop.example or use the form on the privacy choices page; "
    "we answer within one month, and sooner where the law of your country says so.",
)


PRIVACY_EN_V3 = (
    PRIVACY_EN_V2.replace(
        "| Analytics and marketing cookies | Your consent, which you can withdraw at any time |",
        "| Analytics and marketing cookies | Your consent, which you can withdraw at any time |\n"
        "| Product recommendations by email | Your consent, asked for separately |",
    )
    + """
## Who receives your data

Our sub-processors are listed, with every change, on the [sub-processor page](../../subprocessors/).
From this version, marketing data is also shared with our advertising partners listed there.
"""
)


PRIVACY_RU_V1 = """## Кто мы

ООО «Демо Магазин» (г. Примерск, ул. Примерная, д. 1) управляет магазином и определяет, как используются
ваши персональные данные. Ответственный за обработку данных: privacy@demo-shop.example.

## Какие данные мы обрабатываем

- **Заказы:** имя, адрес доставки, электронная почта и состав заказа — чтобы доставить заказ.
- **Учётная запись:** электронная почта и хеш пароля, если вы её создали.
- **Cookie и похожие технологии:** только с вашего согласия, кроме немногих, без которых магазин не работает.
  Их перечень — в [политике cookie](../cookie-policy/).

## Зачем и на каком основании

| Цель | Основание |
|---|---|
| Доставка заказов | Договор |
| Бухгалтерский учёт | Требование закона |
| Аналитические и маркетинговые cookie | Ваше согласие, которое можно отозвать в любой момент |

## Сколько мы храним данные

Сведения о заказах — 6 лет для бухгалтерского учёта. Учётная запись — пока вы её не удалите.
Записи о вашем выборе по cookie — 3 года, чтобы подтвердить ваш выбор.

## Ваши права

Вы можете запросить доступ к данным, их исправление или удаление, возразить против обработки
или отозвать согласие. Пишите на privacy@demo-shop.example; мы отвечаем в течение 10 рабочих дней.
Данные граждан России хранятся в базах данных на территории России.
"""


PRIVACY_RU_V2 = PRIVACY_RU_V1.replace(
    "Пишите на privacy@demo-shop.example; мы отвечаем в течение 10 рабочих дней.",
    "Пишите на privacy@demo-shop.example или воспользуйтесь формой на странице настроек "
    "конфиденциальности; мы отвечаем в течение 10 рабочих дней.",
)


PRIVACY_RU_V3 = (
    PRIVACY_RU_V2.replace(
        "| Аналитические и маркетинговые cookie | Ваше согласие, которое можно отозвать в любой момент |",
        "| Аналитические и маркетинговые cookie | Ваше согласие, которое можно отозвать в любой момент |\n"
        "| Рекомендации товаров по электронной почте | Ваше отдельное согласие |",
    )
    + """
## Кто получает ваши данные

Наши обработчики перечислены, со всеми изменениями, на [странице обработчиков](../../subprocessors/).
С этой редакции маркетинговые данные передаются также указанным там рекламным партнёрам.
"""
)


COOKIE_EN = """## What cookies are

Cookies are small files a site stores in your browser. We also count similar storage (local storage,
pixels) as cookies.

## The cookies we use

| Name | Purpose | Set by | Lifetime |
|---|---|---|---|
| `consentry` | Remembers your cookie choices | us | 13 months |
| `sessionid` | Keeps your basket and login | us | session |
| `_ga`, `_ga_*` | Analytics: counts visits | Google | 13 months |
| `_ym_uid` | Analytics: counts visits | Yandex | 13 months |
| `_fbp` | Marketing: measures ads | Meta | 3 months |

Only the first two are set without your consent. Change your choice at any time with the
"Privacy choices" button at the bottom of every page.
"""


COOKIE_RU = """## Что такое cookie

Cookie — небольшие файлы, которые сайт сохраняет в вашем браузере. К ним мы относим и похожие технологии
(локальное хранилище, пиксели).

## Какие cookie мы используем

| Имя | Цель | Кто устанавливает | Срок |
|---|---|---|---|
| `consentry` | Запоминает ваш выбор по cookie | мы | 13 месяцев |
| `sessionid` | Хранит корзину и вход в учётную запись | мы | сессия |
| `_ga`, `_ga_*` | Аналитика: подсчёт посещений | Google | 13 месяцев |
| `_ym_uid` | Аналитика: подсчёт посещений | Яндекс | 13 месяцев |
| `_fbp` | Маркетинг: оценка рекламы | Meta | 3 месяца |

Без вашего согласия устанавливаются только первые две. Изменить выбор можно в любой момент кнопкой
«Настройки конфиденциальности» внизу каждой страницы.
"""


CALIFORNIA_EN = """## Notice at collection for California residents

| Category of personal information | Why we collect it | Sold or shared? | Kept for |
|---|---|---|---|
| Identifiers (name, email, address) | Orders and account | No | 6 years (orders) |
| Commercial information (purchases) | Orders, accounting | No | 6 years |
| Internet activity (cookies, device data) | Analytics, advertising | **Shared** for cross-context advertising | 13 months |

You can opt out of the sale or sharing of your personal information at any time with the
**Do Not Sell or Share My Personal Information** link, or by turning on Global Privacy Control
in your browser: we treat it as an opt-out. We do not sell personal information of consumers under 16.
Our full [privacy policy](../privacy-policy/) explains your rights to know, delete and correct.
"""


CONSENT_RU = """## Согласие на обработку персональных данных

Я, пользователь сайта магазина «Демо Магазин», свободно, своей волей и в своём интересе даю согласие
ООО «Демо Магазин» (г. Примерск, ул. Примерная, д. 1) на обработку моих персональных данных
на следующих условиях.

1. **Цели:** аналитика посещаемости сайта и показ рекламы, если я выбрал эти цели в настройках cookie.
2. **Данные:** идентификаторы cookie, IP-адрес, сведения о браузере и устройстве, просмотренные страницы.
3. **Действия:** сбор, запись, систематизация, накопление, хранение, уточнение, извлечение,
   использование, передача (предоставление) обработчикам из перечня на странице обработчиков,
   обезличивание, блокирование, удаление, уничтожение; с использованием средств автоматизации.
4. **Передача третьим лицам:** только обработчикам по поручению оператора, перечисленным на странице обработчиков.
5. **Срок:** 1 год с момента выбора или до отзыва согласия.
6. **Отзыв:** в любой момент кнопкой «Настройки конфиденциальности» или письмом на privacy@demo-shop.example.
   После отзыва обработка прекращается, а данные уничтожаются в течение 30 дней.
"""


CONSENT_EN = """## Consent to the processing of personal data (translation)

As a user of the Demo Shop website, I freely and in my own interest give Demo Shop Ltd
(1 Example Street, Exampletown) my consent to process my personal data on these terms.

1. **Purposes:** site analytics and advertising, if I chose these purposes in the cookie settings.
2. **Data:** cookie identifiers, IP address, browser and device details, pages viewed.
3. **Actions:** collection, recording, organisation, accumulation, storage, adjustment, retrieval,
   use, transfer to the processors listed on the sub-processor page, anonymisation, blocking, erasure and
   destruction, by automated means.
4. **Third parties:** only the processors acting on the operator's instructions listed on the sub-processor page.
5. **Term:** one year from my choice, or until I withdraw consent.
6. **Withdrawal:** at any time with the "Privacy choices" button or by writing to privacy@demo-shop.example.
   Processing then stops and the data is destroyed within 30 days.
"""
