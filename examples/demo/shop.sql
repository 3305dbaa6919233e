-- A small shop for the demo: customers, products, orders and their items, a table without a
-- key, and a table whose name needs quoting.  Generated with MariaDB's sequence engine.
CREATE DATABASE shop DEFAULT CHARACTER SET utf8mb4;
USE shop;

CREATE TABLE customers (
  id INT UNSIGNED PRIMARY KEY,
  email VARCHAR(100) NOT NULL UNIQUE,
  name VARCHAR(100) NOT NULL,
  country CHAR(2) NOT NULL,
  created_at DATETIME(3) NOT NULL,
  vip BIT(1) NOT NULL DEFAULT b'0'
);
INSERT INTO customers
SELECT seq, CONCAT('customer', seq, '@example.com'),
       ELT(1 + seq % 5, 'Ana Müller', 'Björn Ødegård', '李雷', 'Zoë O''Brien', 'Ólafur 😀'),
       ELT(1 + seq % 4, 'DE', 'NO', 'CN', 'IE'),
       TIMESTAMP'2024-01-01 00:00:00' + INTERVAL seq MINUTE + INTERVAL (seq % 1000) * 1000 MICROSECOND,
       seq % 17 = 0
FROM seq_1_to_20000;

CREATE TABLE products (
  sku VARCHAR(20) PRIMARY KEY,
  title VARCHAR(200) NOT NULL,
  price DECIMAL(10,2) NOT NULL,
  weight_kg FLOAT,
  attributes JSON
);
INSERT INTO products
SELECT CONCAT('SKU-', LPAD(seq, 5, '0')), CONCAT('Product ', seq), ROUND(1 + (seq * 7919) % 50000 / 100, 2),
       (seq % 97) / 7, JSON_OBJECT('color', ELT(1 + seq % 3, 'red', 'green', 'blue'), 'size', seq % 5)
FROM seq_1_to_2000;

CREATE TABLE orders (
  id BIGINT UNSIGNED PRIMARY KEY,
  customer_id INT UNSIGNED NOT NULL,
  status ENUM('new','paid','shipped','cancelled') NOT NULL,
  total DECIMAL(12,2) NOT NULL,
  placed_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  KEY (customer_id)
);
INSERT INTO orders
SELECT seq, 1 + (seq * 31) % 20000, ELT(1 + seq % 4, 'new', 'paid', 'shipped', 'cancelled'),
       ROUND((seq * 7) % 100000 / 100, 2), TIMESTAMP'2024-06-01 00:00:00' + INTERVAL seq SECOND
FROM seq_1_to_50000;

CREATE TABLE order_items (
  order_id BIGINT UNSIGNED NOT NULL,
  line SMALLINT UNSIGNED NOT NULL,
  sku VARCHAR(20) NOT NULL,
  qty INT NOT NULL,
  PRIMARY KEY (order_id, line)
);
INSERT INTO order_items
SELECT 1 + seq DIV 2, 1 + seq % 2, CONCAT('SKU-', LPAD(1 + seq % 2000, 5, '0')), 1 + seq % 3
FROM seq_0_to_99999;

-- No primary or unique key: copied whole, in one stream.
CREATE TABLE audit_log (at DATETIME NOT NULL, who VARCHAR(50), what TEXT);
INSERT INTO audit_log
SELECT TIMESTAMP'2024-06-01 00:00:00' + INTERVAL seq SECOND, ELT(1 + seq % 3, 'admin', 'api', NULL), CONCAT('event ', seq % 10)
FROM seq_1_to_5000;

-- A name that only works quoted.
CREATE TABLE `order notes; -- "quoted"` (id INT PRIMARY KEY, note VARBINARY(100));
INSERT INTO `order notes; -- "quoted"` VALUES (1, X'00FF'), (2, 'plain'), (3, NULL);
