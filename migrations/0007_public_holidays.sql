-- Public holidays that move with the lunar calendar (Tết Nguyên đán, Giỗ Tổ Hùng Vương)
-- or that the government fixes year by year (the day next to 2/9): the days on which
-- access requests' "2 working days" do not run. The fixed-date holidays (1/1, 30/4, 1/5,
-- 2/9) and the rule that a holiday on a weekend moves to the next working day are in the
-- code (hub/governance/service.py). `lgsp holidays add|remove|list` maintains this table
-- when the government announces a year's schedule.
--
-- Seeded from the Labour Code 2019, art. 112: five days of Tết, from the last day of the
-- lunar year to the 4th day of the first month, and the 10th day of the 3rd lunar month.

CREATE TABLE public_holidays (
    day date PRIMARY KEY,
    name_vi text NOT NULL,
    name_en text NOT NULL DEFAULT '',
    CONSTRAINT public_holidays_name_check CHECK (length(btrim(name_vi)) BETWEEN 1 AND 200)
);

INSERT INTO public_holidays (day, name_vi, name_en) VALUES
    ('2026-02-16', 'Tết Nguyên đán', 'Lunar New Year'),
    ('2026-02-17', 'Tết Nguyên đán', 'Lunar New Year'),
    ('2026-02-18', 'Tết Nguyên đán', 'Lunar New Year'),
    ('2026-02-19', 'Tết Nguyên đán', 'Lunar New Year'),
    ('2026-02-20', 'Tết Nguyên đán', 'Lunar New Year'),
    ('2026-04-26', 'Giỗ Tổ Hùng Vương', 'Hung Kings Commemoration'),
    ('2027-02-05', 'Tết Nguyên đán', 'Lunar New Year'),
    ('2027-02-06', 'Tết Nguyên đán', 'Lunar New Year'),
    ('2027-02-07', 'Tết Nguyên đán', 'Lunar New Year'),
    ('2027-02-08', 'Tết Nguyên đán', 'Lunar New Year'),
    ('2027-02-09', 'Tết Nguyên đán', 'Lunar New Year'),
    ('2027-04-16', 'Giỗ Tổ Hùng Vương', 'Hung Kings Commemoration'),
    ('2028-01-25', 'Tết Nguyên đán', 'Lunar New Year'),
    ('2028-01-26', 'Tết Nguyên đán', 'Lunar New Year'),
    ('2028-01-27', 'Tết Nguyên đán', 'Lunar New Year'),
    ('2028-01-28', 'Tết Nguyên đán', 'Lunar New Year'),
    ('2028-01-29', 'Tết Nguyên đán', 'Lunar New Year'),
    ('2028-04-04', 'Giỗ Tổ Hùng Vương', 'Hung Kings Commemoration');
