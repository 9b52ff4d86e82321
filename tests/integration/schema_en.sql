-- A second schema for the integration suite, in English and unlike the demo: a shop with
-- people and their accounts, addresses a person references, orders and month-partitioned
-- payments whose foreign keys are declared on each partition, a multi-column foreign key,
-- BEFORE UPDATE triggers stamping last_update, a uuid tenant key on most tables and a text
-- one on others. Personal data is planted in columns whose names say so and in a few whose
-- names do not (only their values or comments do).
CREATE SCHEMA shop;

CREATE TABLE shop.tenants (
    id   uuid PRIMARY KEY,
    code text NOT NULL UNIQUE,
    name text NOT NULL
);

CREATE TABLE shop.addresses (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id     uuid NOT NULL REFERENCES shop.tenants (id),
    address_line1 text NOT NULL,
    address_line2 text,
    city          text NOT NULL,
    postal_code   varchar(10) CHECK (postal_code ~ '^[0-9]{5}(-[0-9]{4})?$'),
    country       char(2) NOT NULL DEFAULT 'US',
    contact_phone text,
    UNIQUE (tenant_id, id)
);

CREATE TABLE shop.people (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id       uuid NOT NULL REFERENCES shop.tenants (id),
    first_name      text NOT NULL,
    last_name       text NOT NULL,
    email           text NOT NULL UNIQUE CHECK (position('@' IN email) > 1),
    phone           text,
    ssn             text,
    date_of_birth   date,
    tax_ref         text,
    home_address_id bigint,
    notes           text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    last_update     timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, id),
    -- multi-column: the address must belong to the person's tenant
    CONSTRAINT people_home_address_fk FOREIGN KEY (tenant_id, home_address_id)
        REFERENCES shop.addresses (tenant_id, id)
);

CREATE TABLE shop.accounts (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id     uuid NOT NULL REFERENCES shop.tenants (id),
    person_id     bigint NOT NULL REFERENCES shop.people (id),
    username      varchar(40) NOT NULL UNIQUE,
    password_hash text NOT NULL,
    last_login_ip inet,
    last_update   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE shop.staff (
    id                    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id             uuid NOT NULL REFERENCES shop.tenants (id),
    full_name             text NOT NULL,
    work_email            text,
    photo                 bytea,
    api_key               text,
    national_id           text,
    national_id_encrypted bytea,
    hired_on              date NOT NULL DEFAULT current_date
);

CREATE TABLE shop.products (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id   uuid NOT NULL REFERENCES shop.tenants (id),
    sku         text NOT NULL,
    title       text NOT NULL,
    description text,
    price       numeric(12, 2) NOT NULL CHECK (price >= 0)
);

CREATE TABLE shop.orders (
    id               bigint GENERATED ALWAYS AS IDENTITY,
    tenant_id        uuid NOT NULL,
    person_id        bigint NOT NULL,
    placed_at        timestamptz NOT NULL DEFAULT now(),
    status           text NOT NULL DEFAULT 'new' CHECK (status IN ('new', 'paid', 'shipped')),
    total            numeric(12, 2) NOT NULL CHECK (total >= 0),
    delivery_contact text,
    PRIMARY KEY (tenant_id, id),
    CONSTRAINT orders_person_fk FOREIGN KEY (tenant_id, person_id)
        REFERENCES shop.people (tenant_id, id)
);

CREATE TABLE shop.payments (
    id          bigint NOT NULL,
    tenant_id   uuid NOT NULL,
    order_id    bigint NOT NULL,
    person_id   bigint NOT NULL,
    paid_on     date NOT NULL,
    amount      numeric(12, 2) NOT NULL,
    card_holder text,
    PRIMARY KEY (id, paid_on)
) PARTITION BY RANGE (paid_on);
COMMENT ON COLUMN shop.payments.card_holder IS 'as printed on the card: personal data';
CREATE TABLE shop.payments_2026_01 PARTITION OF shop.payments
    FOR VALUES FROM ('2026-01-01') TO ('2026-02-01');
CREATE TABLE shop.payments_2026_02 PARTITION OF shop.payments
    FOR VALUES FROM ('2026-02-01') TO ('2026-03-01');
CREATE TABLE shop.payments_2026_03 PARTITION OF shop.payments
    FOR VALUES FROM ('2026-03-01') TO ('2026-04-01');
-- The foreign keys are declared on each partition, not on the parent.
ALTER TABLE shop.payments_2026_01 ADD CONSTRAINT payments_2026_01_person_fk
    FOREIGN KEY (person_id) REFERENCES shop.people (id);
ALTER TABLE shop.payments_2026_02 ADD CONSTRAINT payments_2026_02_person_fk
    FOREIGN KEY (person_id) REFERENCES shop.people (id);
ALTER TABLE shop.payments_2026_03 ADD CONSTRAINT payments_2026_03_person_fk
    FOREIGN KEY (person_id) REFERENCES shop.people (id);
ALTER TABLE shop.payments_2026_01 ADD CONSTRAINT payments_2026_01_order_fk
    FOREIGN KEY (tenant_id, order_id) REFERENCES shop.orders (tenant_id, id);
ALTER TABLE shop.payments_2026_02 ADD CONSTRAINT payments_2026_02_order_fk
    FOREIGN KEY (tenant_id, order_id) REFERENCES shop.orders (tenant_id, id);
ALTER TABLE shop.payments_2026_03 ADD CONSTRAINT payments_2026_03_order_fk
    FOREIGN KEY (tenant_id, order_id) REFERENCES shop.orders (tenant_id, id);

-- The text tenant key.
CREATE TABLE shop.support_tickets (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_code     text NOT NULL REFERENCES shop.tenants (code),
    person_id       bigint REFERENCES shop.people (id) ON DELETE SET NULL,
    subject         text NOT NULL,
    body            text,
    requester_email text
);
COMMENT ON COLUMN shop.support_tickets.body IS 'free text from the customer; may hold personal data';

CREATE TABLE shop.newsletter_signups (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_code text NOT NULL REFERENCES shop.tenants (code),
    e_mail      text NOT NULL,
    signup_ip   text,
    signed_up   timestamptz NOT NULL DEFAULT now()
);

CREATE FUNCTION shop.stamp_last_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.last_update := now();
    RETURN NEW;
END $$;
CREATE TRIGGER people_last_update BEFORE UPDATE ON shop.people
    FOR EACH ROW EXECUTE FUNCTION shop.stamp_last_update();
CREATE TRIGGER accounts_last_update BEFORE UPDATE ON shop.accounts
    FOR EACH ROW EXECUTE FUNCTION shop.stamp_last_update();

-- Data: two tenants, 40 people with an address, an account, orders and payments.
INSERT INTO shop.tenants VALUES
    ('00000000-0000-0000-0000-00000000000a', 'acme', 'Acme Inc.'),
    ('00000000-0000-0000-0000-00000000000b', 'globex', 'Globex Corp.');
INSERT INTO shop.addresses (tenant_id, address_line1, address_line2, city, postal_code,
                            contact_phone)
SELECT CASE WHEN g % 2 = 0 THEN '00000000-0000-0000-0000-00000000000a'::uuid
            ELSE '00000000-0000-0000-0000-00000000000b'::uuid END,
       g || ' Main Street', 'Apt ' || g, 'Springfield', lpad((10000 + g)::text, 5, '0') || '-1234',
       '+1 415 555 ' || lpad(g::text, 4, '0')
FROM generate_series(1, 40) g;
INSERT INTO shop.people (tenant_id, first_name, last_name, email, phone, ssn, date_of_birth,
                         tax_ref, home_address_id, notes)
SELECT a.tenant_id, 'First' || a.id, 'Last' || a.id, 'person' || a.id || '@example.com',
       '(415) 555-' || lpad(a.id::text, 4, '0'), '123-45-' || lpad(a.id::text, 4, '0'),
       date '1980-01-01' + a.id::int, '987-65-' || lpad(a.id::text, 4, '0'), a.id,
       'prefers calls after 6pm'
FROM shop.addresses a;
INSERT INTO shop.accounts (tenant_id, person_id, username, password_hash, last_login_ip)
SELECT tenant_id, id, 'user' || id, 'scrypt$' || md5(id::text), ('10.0.0.' || id)::inet
FROM shop.people;
INSERT INTO shop.staff (tenant_id, full_name, work_email, api_key, national_id)
VALUES ('00000000-0000-0000-0000-00000000000a', 'Pat Staff', 'pat@acme.example', 'k-1', '111');
INSERT INTO shop.products (tenant_id, sku, title, description, price)
SELECT '00000000-0000-0000-0000-00000000000a', 'SKU-' || g, 'Product ' || g, 'A fine product', g
FROM generate_series(1, 20) g;
INSERT INTO shop.orders (tenant_id, person_id, total, delivery_contact)
SELECT tenant_id, id, 10 * id, 'deliver' || id || '@example.org' FROM shop.people;
INSERT INTO shop.payments (id, tenant_id, order_id, person_id, paid_on, amount, card_holder)
SELECT o.id, o.tenant_id, o.id, o.person_id, date '2026-01-01' + (o.id::int % 80), o.total,
       'FIRST LAST'
FROM shop.orders o;
INSERT INTO shop.support_tickets (tenant_code, person_id, subject, body, requester_email)
SELECT 'acme', id, 'Help', 'My phone is broken', 'person' || id || '@example.com'
FROM shop.people WHERE id <= 10;
INSERT INTO shop.newsletter_signups (tenant_code, e_mail, signup_ip)
SELECT 'globex', 'fan' || g || '@example.net', '192.168.1.' || g FROM generate_series(1, 10) g;
