from rlhub_shop_support.env import ShopSupport

__all__ = ["ShopSupport"]
